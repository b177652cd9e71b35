import type { Logger } from '../observability';
import type { TaskRecord, TaskRepository } from '../store';
import type { Leadership } from './leadership';
import { AN_TASKS_MAX, type Sweeper } from './sweeper';

/** What {@link SilentAnRecovery} needs. */
export interface SilentAnRecoveryDeps {
  repo: Pick<TaskRepository, 'findByAn'>;
  sweeper: Pick<Sweeper, 'requeueTasksOfAn'>;
  leadership: Pick<Leadership, 'fence'>;
  /** Whether the An is still silent on the broker (dead, or gone from the membership list). */
  isSilent: (an: string) => boolean;
  /**
   * How long after the An turned dead its leases are read again: longer than the period at which
   * an An renews them (`TASK_LEASE_MS / 3`).
   */
  checkAfterMs: number;
  log: Logger;
}

const leaseMsOf = (t: TaskRecord): number => t.leaseExpiresAt?.getTime() ?? 0;

/**
 * The leader's recovery of an An whose heartbeats stopped: its tasks are requeued as soon as its
 * leases show that it stopped too. An An cut off from the broker still renews them in the store,
 * its Kis still run its tasks and their results wait in its inbox: taking those tasks away would
 * run every one of them twice. Such an An keeps them; if it stays cut off it lets the leases run
 * out, and the lease sweep takes them back.
 */
export class SilentAnRecovery {
  /** Ans being checked; a timer once their leases were read. */
  readonly #watching = new Map<string, NodeJS.Timeout | undefined>();
  #stopped = false;

  constructor(private readonly d: SilentAnRecoveryDeps) {}

  /** The An turned dead: reads its leases now, and again after {@link SilentAnRecoveryDeps.checkAfterMs}. */
  async onSilent(an: string): Promise<void> {
    if (this.#stopped || this.#watching.has(an)) return;
    this.#watching.set(an, undefined);
    let before: Map<string, number>;
    try {
      before = new Map((await this.d.repo.findByAn(an, AN_TASKS_MAX)).map((t) => [t.id, leaseMsOf(t)]));
    } catch (err) {
      this.#watching.delete(an);
      throw err;
    }
    if (before.size === 0 || this.#stopped) {
      this.#watching.delete(an);
      return;
    }
    const timer = setTimeout(() => {
      this.#watching.delete(an);
      this.#check(an, before).catch((err: Error) => this.d.log.warn({ an, err: err.message }, 'requeue of a dead An failed; the lease sweep will do it'));
    }, this.d.checkAfterMs);
    timer.unref();
    this.#watching.set(an, timer);
  }

  async #check(an: string, before: ReadonlyMap<string, number>): Promise<void> {
    const fence = this.d.leadership.fence();
    if (!fence || !this.d.isSilent(an)) return;
    const tasks = await this.d.repo.findByAn(an, AN_TASKS_MAX);
    // A lease renewed, or a task dispatched, since it fell silent: the An works, only not on the broker.
    if (tasks.some((t) => leaseMsOf(t) > (before.get(t.id) ?? -Infinity))) {
      this.d.log.warn({ an, tasks: tasks.length }, 'An silent on the broker still renews its leases: its tasks stay with it');
      return;
    }
    await this.d.sweeper.requeueTasksOfAn(an, tasks, fence);
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#watching.values()) clearTimeout(timer);
    this.#watching.clear();
  }
}
