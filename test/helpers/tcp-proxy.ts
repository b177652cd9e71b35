import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy a test can cut, freeze and restore, to take a service away from one process only.
 * `cut` closes the connections (what a crash or a refused port looks like); `freeze` keeps them open
 * and silently drops every byte (a half-open connection: a pulled cable, a dropped route, a frozen peer).
 */
export class TcpProxy {
  #server?: Server;
  #sockets = new Set<Socket>();
  #cut = false;
  #frozen = false;
  /** Closes that happened on one side while frozen: the other side learns of them only on {@link restore}. */
  #heldCloses: (() => void)[] = [];
  port = 0;

  constructor(private readonly targetPort: number, private readonly targetHost = '127.0.0.1') {}

  /** Listens on `listenPort` (0: any free one; a fixed one lets a test start the proxy after a node was pointed at it) and `listenHost`. */
  async start(listenPort = 0, listenHost = '127.0.0.1'): Promise<void> {
    this.#server = createServer((client) => {
      if (this.#cut) { client.destroy(); return; }
      const upstream = connect(this.targetPort, this.targetHost);
      const closeBoth = () => this.#unlessFrozen(() => { client.destroy(); upstream.destroy(); });
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', closeBoth);
      }
      // Bytes that arrive while frozen are dropped, as a black-holed route would.
      client.on('data', (chunk) => { if (!this.#frozen) upstream.write(chunk); });
      upstream.on('data', (chunk) => { if (!this.#frozen) client.write(chunk); });
      // A FIN is a packet too: while frozen the other side does not see it (until the route is back).
      client.on('end', () => this.#unlessFrozen(() => upstream.end()));
      upstream.on('end', () => this.#unlessFrozen(() => client.end()));
    });
    await new Promise<void>((resolve) => this.#server!.listen(listenPort, listenHost, () => resolve()));
    const addr = this.#server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** Drops every connection and refuses new ones. */
  cut(): void {
    this.#cut = true;
    this.#heldCloses = [];
    for (const s of this.#sockets) s.destroy();
  }

  /**
   * Keeps every connection open but forwards nothing, either way, until {@link restore}: no data,
   * and no close either. New connections are accepted (the listener is local) and get nothing.
   */
  freeze(): void {
    this.#frozen = true;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  restore(): void {
    this.#cut = false;
    this.#frozen = false;
    for (const close of this.#heldCloses.splice(0)) close();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #unlessFrozen(close: () => void): void {
    if (this.#frozen) this.#heldCloses.push(close);
    else close();
  }
}
