import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy a test can cut and restore, to take a service away from one process only. */
export class TcpProxy {
  #server?: Server;
  #sockets = new Set<Socket>();
  #cut = false;
  port = 0;

  constructor(private readonly targetPort: number, private readonly targetHost = '127.0.0.1') {}

  /** Listens on `listenPort` (0: any free one; a fixed one lets a test start the proxy after a node was pointed at it). */
  async start(listenPort = 0): Promise<void> {
    this.#server = createServer((client) => {
      if (this.#cut) { client.destroy(); return; }
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => { client.destroy(); upstream.destroy(); });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.#server!.listen(listenPort, '127.0.0.1', () => resolve()));
    const addr = this.#server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** Drops every connection and refuses new ones. */
  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
  }

  restore(): void {
    this.#cut = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
