import type { Logger, Metrics } from '../observability';
import type { LeaderFence, TaskRecord, TaskRepository } from '../store';
import type { TaskAdmission } from './admission';

/** Due tasks read and released per statement. */
const RELEASE_BATCH = 500;
/** Batches per round at most, so one round never holds the timer for long; the next round goes on. */
const MAX_BATCHES_PER_ROUND = 20;

/** What {@link ScheduledRelease} needs. */
export interface ScheduledReleaseDeps {
  repo: Pick<TaskRepository, 'findDue' | 'applyTransitions' | 'countScheduled'>;
  admission: Pick<TaskAdmission, 'publish'>;
  metrics: Pick<Metrics, 'tasksScheduled' | 'taskReleaseLateness'>;
  log: Logger;
}

/**
 * The leader's release of scheduled tasks: a task whose `runAt` has come (a delayed submission,
 * or a failed attempt whose retry backoff ran out) goes to the queue by the `release` transition,
 * fenced by the leader's term, and its pending message is published. The guard (status and
 * attempts) releases a task once however many leaders try; a release whose publish fails leaves
 * the row queued and unpublished, and the sweeper republishes it.
 */
export class ScheduledRelease {
  constructor(private readonly d: ScheduledReleaseDeps) {}

  /** Releases every task due now, in batches, the most overdue first; returns how many. */
  async releaseDue(fence: LeaderFence): Promise<number> {
    let released = 0;
    for (let round = 0; round < MAX_BATCHES_PER_ROUND; round++) {
      const due = await this.d.repo.findDue(RELEASE_BATCH);
      if (due.length === 0) break;
      const applied = await this.d.repo.applyTransitions(due.map(({ task }) => ({
        id: task.id, name: 'release', expectedAttempts: task.attempts, clearPublished: true,
      })), fence);
      const ids = new Set(applied.map((a) => a.id));
      const publishes: Promise<boolean>[] = [];
      for (const { task, lateMs } of due) {
        if (!ids.has(task.id)) continue;
        this.d.metrics.taskReleaseLateness.observe(lateMs / 1000);
        publishes.push(this.d.admission.publish(queued(task)));
      }
      // Published together: the batch sender puts them in few messages, confirmed at once.
      await Promise.all(publishes);
      released += applied.length;
      // Nothing applied: this principal lost the lease (the fence refused) or another released them.
      if (due.length < RELEASE_BATCH || applied.length === 0) break;
    }
    if (released > 0) this.d.log.debug({ count: released }, 'scheduled tasks released');
    return released;
  }

  /** Sets `anki_tasks_scheduled`: the backlog as the leader counts it; 0 elsewhere, so a sum over principals holds. */
  async reportBacklog(leading: boolean): Promise<void> {
    this.d.metrics.tasksScheduled.set(leading ? await this.d.repo.countScheduled() : 0);
  }
}

/** The task as its release left it: queued, no An, no Ki. */
function queued(t: TaskRecord): TaskRecord {
  return { ...t, status: 'queued', an: null, ki: null };
}
