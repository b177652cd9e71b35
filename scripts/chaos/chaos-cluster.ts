import { TestCluster, type NodeProcess } from '../../test/helpers/cluster';
import { createIsolation, type Isolation } from '../../test/helpers/isolation';
import { NetnsLab, netnsUnavailable } from '../../test/helpers/netns';
import { NodeLink } from '../../test/helpers/node-link';
import { PgInstance } from '../../test/helpers/pg-instance';
import { ExecutionLog } from './invariants';
import { CHAOS_NODE_ENV } from './workload';

export type ChaosRole = 'principal' | 'an' | 'ki';

/**
 * The cluster a chaos run breaks: its own vhost; a PostgreSQL server of its own when one can be
 * started (so it can be restarted); every node behind a link of its own (proxies to the broker
 * and the database that can be cut or frozen for that node alone), in a network namespace of its
 * own where namespaces are permitted (so it can be partitioned). `skipped` says what is missing.
 */
export class ChaosCluster {
  readonly links = new Map<string, NodeLink>();
  /** Nodes stopped with SIGSTOP that are to be continued. */
  readonly stopped = new Set<NodeProcess>();
  /** Nodes that exited on their own (no signal of the run's): what a Kubernetes restart count would show. */
  readonly ownExits: { id: string; code: number; lastLines: string[] }[] = [];
  #stopping = false;

  private constructor(
    readonly iso: Isolation,
    readonly cluster: TestCluster,
    readonly execLog: ExecutionLog,
    readonly databaseUrl: string,
    readonly pg: PgInstance | undefined,
    readonly lab: NetnsLab | undefined,
    /** Why a fault kind cannot be injected here, by kind. */
    readonly skipped: Readonly<Record<string, string>>,
  ) {}

  static async create(log: (line: string) => void): Promise<ChaosCluster> {
    const skipped: Record<string, string> = {};
    const iso = await createIsolation('chaos');
    let pg: PgInstance | undefined;
    let lab: NetnsLab | undefined;
    try {
      pg = await PgInstance.create().catch((err: Error) => { skipped['db-restart'] = `no PostgreSQL server of its own (${err.message.split('\n')[0]}): db-outage only`; return undefined; });
      const databaseUrl = pg ? await pg.createDatabase('anki') : iso.databaseUrl;
      const why = await netnsUnavailable();
      if (why) skipped['partition'] = why;
      else lab = await NetnsLab.open();
      for (const [kind, reason] of Object.entries(skipped)) log(`!!! fault ${kind} skipped: ${reason}`);
      const execLog = new ExecutionLog(iso.id);
      const cluster = new TestCluster(iso, { ...CHAOS_NODE_ENV, ...execLog.nodeEnv() });
      return new ChaosCluster(iso, cluster, execLog, databaseUrl, pg, lab, skipped);
    } catch (err) {
      await lab?.destroy();
      await pg?.destroy();
      await iso.destroy();
      throw err;
    }
  }

  /** Starts a node behind a new link of its own. */
  async add(role: ChaosRole, id: string, log: (line: string) => void): Promise<NodeProcess> {
    const link = await NodeLink.open({ amqpUrl: this.iso.amqpUrl, ...(role === 'ki' ? {} : { databaseUrl: this.databaseUrl }), ...(this.lab ? { lab: this.lab } : {}) });
    this.links.set(id, link);
    return this.supervise(await this.cluster.start(role, link.nodeOptions({ id })), log);
  }

  /** Starts a killed node again under its id, supervised like the others. */
  async restart(node: NodeProcess, log: (line: string) => void): Promise<NodeProcess> {
    return this.supervise(await this.cluster.restart(node, { waitReady: false }), log);
  }

  /**
   * As an orchestrator would: a node that exits on its own (an exit code, not a signal of this
   * run) is recorded with its last log lines and started again a second later.
   */
  supervise(node: NodeProcess, log: (line: string) => void): NodeProcess {
    void node.exited.then((code) => {
      if (this.#stopping || code === null) return;
      const lastLines = node.logs.slice(-8);
      this.ownExits.push({ id: node.id, code, lastLines });
      log(`!!! ${node.id} exited on its own with code ${code}; restarting it. Last lines:\n    ${lastLines.join('\n    ')}`);
      setTimeout(() => { if (!this.#stopping) this.restart(node, log).catch((err: Error) => log(`restart of ${node.id} failed: ${err.message}`)); }, 1000);
    });
    return node;
  }

  /** The run is ending: exits from now on are the run's own. */
  stopping(): void {
    this.#stopping = true;
  }

  live(role?: ChaosRole): NodeProcess[] {
    // The newest process of each id: a restarted node replaces the killed one.
    const latest = new Map<string, NodeProcess>();
    for (const n of this.cluster.nodes) latest.set(n.id, n);
    return [...latest.values()].filter((n) => n.alive && (role === undefined || n.role === role));
  }

  linkOf(node: NodeProcess): NodeLink {
    const link = this.links.get(node.id);
    if (!link) throw new Error(`no link for ${node.id}`);
    return link;
  }

  /** Undoes every fault still in effect: proxies flow, namespaces heal, stopped nodes continue, the database runs. */
  async healAll(): Promise<void> {
    for (const link of this.links.values()) {
      link.broker.restore();
      link.db?.restore();
      if (link.netns && this.lab) await this.lab.heal(link.netns).catch(() => undefined);
    }
    for (const n of this.stopped) if (n.alive) n.proc.kill('SIGCONT');
    this.stopped.clear();
    if (this.pg && !this.pg.running) await this.pg.start();
  }

  /** Every process a node of this run had, for the check that none is left. */
  pids(): number[] {
    return this.cluster.nodes.flatMap((n) => (n.proc.pid ? [n.proc.pid] : []));
  }

  async destroy(): Promise<void> {
    await this.healAll().catch(() => undefined);
    await this.cluster.stopAll().catch(() => undefined);
    for (const link of this.links.values()) await link.stop();
    await this.lab?.destroy();
    await this.pg?.destroy();
    this.execLog.remove();
    await this.iso.destroy();
  }
}
