import type { TaskRepository } from '../store';
import { leaseRenewalPeriodMs } from '../task';
import type { HeldTasks } from './held-tasks';

/** What {@link LeaseKeeper} needs. */
export interface LeaseKeeperDeps {
  nodeId: string;
  /** `an.leaseMs`: how long a renewal holds. */
  leaseMs: number;
  repo: Pick<TaskRepository, 'renewLeases'>;
  held: Pick<HeldTasks, 'all'>;
  /**
   * How long this An has not heard the cluster (0 while it does). An An cut off from the broker
   * keeps its tasks for one lease (its Kis still run them, and their results wait in its inbox),
   * then lets the leases run out, so the leader can hand the tasks to an An that can reach them.
   * @defaultValue always 0
   */
  deafForMs?: () => number;
}

/**
 * Renews the leases of the tasks this An has dispatched. Once its pending message is acked, the
 * lease is what keeps a task: when it runs out (this An died or lost the DB), the leader requeues
 * the task, and another An may take it over as a new attempt.
 */
export class LeaseKeeper {
  constructor(private readonly d: LeaseKeeperDeps) {}

  /** How often to renew: a third of the lease (at least 200 ms), so one late renewal does not lose it. */
  get periodMs(): number {
    return leaseRenewalPeriodMs(this.d.leaseMs);
  }

  /**
   * Renews the tasks placed on a Ki, and the ones whose pending message was already acked (their
   * dispatch is stored): a task still waiting with its message unacked has no lease to keep.
   */
  async renew(): Promise<void> {
    if ((this.d.deafForMs?.() ?? 0) >= this.d.leaseMs) return;
    const ids = this.d.held.all().filter((t) => t.runs.size > 0 || t.delivery === undefined).map((t) => t.spec.id);
    if (ids.length === 0) return;
    await this.d.repo.renewLeases(this.d.nodeId, ids, this.d.leaseMs);
  }
}
