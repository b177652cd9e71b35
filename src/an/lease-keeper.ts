import type { TaskRepository } from '../store';
import type { HeldTasks } from './held-tasks';

/** What {@link LeaseKeeper} needs. */
export interface LeaseKeeperDeps {
  nodeId: string;
  /** `an.leaseMs`: how long a renewal holds. */
  leaseMs: number;
  repo: Pick<TaskRepository, 'renewLeases'>;
  held: Pick<HeldTasks, 'all'>;
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
    return Math.max(200, Math.floor(this.d.leaseMs / 3));
  }

  /**
   * Renews the tasks placed on a Ki, and the ones whose pending message was already acked (their
   * dispatch is stored): a task still waiting with its message unacked has no lease to keep.
   */
  async renew(): Promise<void> {
    const ids = this.d.held.all().filter((t) => t.runs.size > 0 || t.delivery === undefined).map((t) => t.spec.id);
    if (ids.length === 0) return;
    await this.d.repo.renewLeases(this.d.nodeId, ids, this.d.leaseMs);
  }
}
