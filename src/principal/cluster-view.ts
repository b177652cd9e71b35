import type { Membership } from '../cluster';
import type { TopologyNames } from '../protocol';
import { type ReputationRepository, type NodeControlRepository } from '../store';
import type { Transport } from '../transport';
import type { Leadership } from './leadership';
import { NodeControlsView } from './node-controls-view';
import type { CountedTasks } from './task-counts';

/** What /nodes and /cluster show: members from heartbeats, the leader, counts, queue depths. */
export class ClusterView {
  #quarantined: ReadonlySet<string> = new Set();
  /** Cordons, drains and benches; absent where the view has no store of them (tests). */
  readonly controls?: NodeControlsView;

  constructor(private readonly d: {
    membership: Membership; leadership: Leadership; reputation: ReputationRepository; transport: Transport; names: TopologyNames; selfId: string; admitted: () => number;
    /** Bounded, cached task counts (see TaskCountCache): /cluster must not scan the tasks table. */
    taskCounts: { read(): Promise<CountedTasks | null> };
    /** The node controls, and how long after a drain an empty Ki counts as drained. */
    controls?: { repo: Pick<NodeControlRepository, 'all'>; settleMs: number };
  }) {
    if (d.controls) this.controls = new NodeControlsView({ controls: d.controls.repo, settleMs: d.controls.settleMs });
  }

  /** Reads which Kis are quarantined (kept in the DB by the Ans that saw them disagree), cordoned, draining or benched. */
  async refresh(): Promise<void> {
    this.#quarantined = await this.d.reputation.quarantined().catch(() => this.#quarantined);
    await this.controls?.refresh().catch(() => undefined);
  }

  /** An operator lets a quarantined Ki take work again. */
  async release(nodeId: string): Promise<boolean> {
    // Reputation is kept under a Ki's stable id: its node id names it too.
    const stableId = this.d.membership.list().find((m) => m.id === nodeId && m.heartbeat.stableId)?.heartbeat.stableId;
    const ok = await this.d.reputation.release(stableId ?? nodeId);
    await this.refresh();
    return ok;
  }

  nodes() {
    const leader = this.d.leadership.leader();
    return this.d.membership.list().map((m) => ({
      id: m.id,
      role: m.role,
      status: m.status,
      group: m.heartbeat.group,
      leader: (m.role === 'principal' || m.role === 'standalone') && leader?.id === m.id,
      load: m.heartbeat.load,
      slots: m.heartbeat.slots,
      gpus: m.heartbeat.gpus,
      types: m.heartbeat.types,
      labels: m.heartbeat.labels,
      version: m.heartbeat.version,
      ...(m.heartbeat.instance ? { instance: m.heartbeat.instance } : {}),
      quarantined: this.#quarantined.has(m.id) || (m.heartbeat.stableId !== undefined && this.#quarantined.has(m.heartbeat.stableId)),
      ...this.controls?.fieldsOf(m),
      startedAt: new Date(m.heartbeat.startedAtMs).toISOString(),
      lastSeen: new Date(m.lastSeenMs).toISOString(),
    })).sort((a, b) => a.role.localeCompare(b.role) || a.id.localeCompare(b.id));
  }

  async summary() {
    const nodes = this.nodes();
    const counts: Record<string, Record<string, number>> = {};
    for (const n of nodes) {
      const byStatus = (counts[n.role] ??= {});
      byStatus[n.status] = (byStatus[n.status] ?? 0) + 1;
    }
    const [tasks, ...depths] = await Promise.all([
      this.d.taskCounts.read(),
      ...this.d.names.pendingBands.map((q) => this.d.transport.queueDepth(q)),
    ]);
    const bands = Object.fromEntries(this.d.names.pendingBands.map((q, i) => [q.slice(this.d.names.pending.length + 1), depths[i] ?? 0]));
    const pending = Object.values(bands).reduce((a, b) => a + b, 0);
    return {
      leader: this.d.leadership.leader(),
      self: this.d.selfId,
      admitted: this.d.admitted(),
      nodes: counts,
      tasks: tasks?.counts ?? null,
      /** Statuses whose count stopped at the cap (CLUSTER_TASK_COUNT_CAP): there are at least that many. */
      tasksCapped: tasks?.capped ?? [],
      /** When the counts were taken: they are reused for CLUSTER_TASK_COUNT_TTL_MS. */
      tasksCountedAt: tasks?.countedAt.toISOString() ?? null,
      queues: { pending, ...bands },
      groups: [...new Set(nodes.filter((n) => n.role === 'an').map((n) => n.group))].map((g) => ({
        group: g,
        an: nodes.filter((n) => n.role === 'an' && n.group === g).map((n) => n.id),
        ki: nodes.filter((n) => n.role === 'ki' && n.group === g).map((n) => n.id),
      })),
    };
  }
}
