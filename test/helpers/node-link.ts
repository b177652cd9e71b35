import type { NodeOptions } from './cluster';
import type { NetnsHost, NetnsLab } from './netns';
import { TcpProxy } from './tcp-proxy';

/** `url` with its host and port replaced. */
export function viaProxy(url: string, host: string, port: number): string {
  const u = new URL(url);
  u.hostname = host;
  u.port = String(port);
  return u.toString();
}

/**
 * One node's own way to the broker and to the database: a proxy each, so a test can cut or freeze
 * that node alone. With a namespace the node runs as a host of its own and the proxies listen on
 * the host end of its link (the broker and the database listen on loopback only), so it can also
 * be partitioned by the kernel: link down, or every packet dropped.
 */
export class NodeLink {
  private constructor(readonly broker: TcpProxy, readonly db: TcpProxy | undefined, readonly netns: NetnsHost | undefined,
    private readonly urls: { amqpUrl: string; databaseUrl?: string }) {}

  /**
   * `amqpUrl` and `databaseUrl` are the real services (a node without a store, a Ki, passes no
   * database); `lab` puts the node in a namespace of its own.
   */
  static async open(o: { amqpUrl: string; databaseUrl?: string; lab?: NetnsLab }): Promise<NodeLink> {
    const netns = await o.lab?.add();
    const listenHost = netns?.hostAddress ?? '127.0.0.1';
    const target = (url: string) => { const u = new URL(url); return { host: u.hostname, port: Number(u.port) }; };
    const b = target(o.amqpUrl);
    const broker = new TcpProxy(b.port || 5672, b.host);
    await broker.start(0, listenHost);
    let db: TcpProxy | undefined;
    if (o.databaseUrl) {
      const d = target(o.databaseUrl);
      db = new TcpProxy(d.port || 5432, d.host);
      await db.start(0, listenHost);
    }
    return new NodeLink(broker, db, netns, { amqpUrl: viaProxy(o.amqpUrl, listenHost, broker.port), ...(db && o.databaseUrl ? { databaseUrl: viaProxy(o.databaseUrl, listenHost, db.port) } : {}) });
  }

  /** What `TestCluster.start` needs to run the node over this link. */
  nodeOptions(extra: NodeOptions = {}): NodeOptions {
    return {
      ...extra,
      env: { ...(extra.env ?? {}), AMQP_URL: this.urls.amqpUrl, DATABASE_URL: this.urls.databaseUrl ?? '' },
      ...(this.netns ? { netns: { name: this.netns.name, address: this.netns.address } } : {}),
    };
  }

  async stop(): Promise<void> {
    await this.broker.stop();
    await this.db?.stop();
  }
}
