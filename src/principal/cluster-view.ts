import type { Membership } from '../cluster/membership';
import type { TopologyNames } from '../protocol/names';
import type { TaskRepository } from '../store/task-repository';
import type { Transport } from '../transport';
import type { Leadership } from './leadership';

/** What /nodes and /cluster show: members from heartbeats, the leader, counts, queue depths. */
export class ClusterView {
  constructor(private readonly d: { membership: Membership; leadership: Leadership; repo: TaskRepository; transport: Transport; names: TopologyNames; selfId: string; admitted: () => number }) {}

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
      quarantined: m.heartbeat.quarantined ?? false,
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
    const [tasks, pending] = await Promise.all([
      this.d.repo.countByStatus().catch(() => null),
      this.d.transport.queueDepth(this.d.names.pending),
    ]);
    return {
      leader: this.d.leadership.leader(),
      self: this.d.selfId,
      admitted: this.d.admitted(),
      nodes: counts,
      tasks,
      queues: { pending },
      groups: [...new Set(nodes.filter((n) => n.role === 'an').map((n) => n.group))].map((g) => ({
        group: g,
        an: nodes.filter((n) => n.role === 'an' && n.group === g).map((n) => n.id),
        ki: nodes.filter((n) => n.role === 'ki' && n.group === g).map((n) => n.id),
      })),
    };
  }
}
