import { type Logger, type Metrics } from '../observability';
import { hasAttemptLeft, isHeld, isTerminal, type ErrorCode } from '../task';
import type { LeaderFence, TaskRecord, TaskRepository } from '../store';
import type { TaskAdmission } from './admission';

const BATCH = 500;
/** Most tasks of one dead An read at once; the lease sweep takes back any beyond. */
export const AN_TASKS_MAX = 10_000;
const LEASE_EXPIRED: ErrorCode = 'LEASE_EXPIRED';
const AN_LOST: ErrorCode = 'AN_LOST';

/**
 * The leader's sweeps: republish tasks whose publish was never confirmed, requeue tasks whose lease
 * expired (their An stopped renewing), and forget admitted tasks whose finish event was missed.
 */
export class Sweeper {
  constructor(private readonly d: {
    repo: TaskRepository; admission: TaskAdmission; metrics: Metrics; log: Logger; unpublishedGraceMs: number; selfId: string;
    /** Told of each task the lease sweep failed for good (no An writes its dead letter). */
    onFailed?: (taskId: string) => void;
  }) {}

  async republishUnpublished(): Promise<number> {
    const tasks = await this.d.repo.findUnpublished(this.d.unpublishedGraceMs, BATCH);
    let n = 0;
    for (const t of tasks) if (await this.d.admission.publish(t)) n++;
    if (n > 0) this.d.log.info({ count: n }, 'republished unpublished tasks');
    return n;
  }

  /** Expired leases go back to the queue (or fail when attempts are used up) and are republished. Fenced by the leader's term. */
  async requeueExpiredLeases(fence: LeaderFence): Promise<number> {
    const expired = await this.d.repo.findExpiredLeases(BATCH);
    if (expired.length === 0) return 0;
    // A held task lost its running attempt; a queued one (an earlier version's An waiting out a
    // retry backoff under its lease) lost none and always goes back.
    const isExhausted = (t: TaskRecord) => isHeld(t.status) && !hasAttemptLeft(t.attempts, t.maxAttempts);
    const exhausted = expired.filter(isExhausted);
    const retry = expired.filter((t) => !isExhausted(t));
    const failed = await this.d.repo.applyTransitions(exhausted.map((t) => ({
      id: t.id, name: 'expireLease', expectedAttempts: t.attempts, leaseMs: null, finishedAt: new Date(),
      outcome: { result: null, error: { code: LEASE_EXPIRED, message: `lease held by ${t.an ?? 'an unknown An'} expired after ${t.attempts} attempts`, retryable: false } },
    })), fence);
    for (const f of failed) this.d.onFailed?.(f.id);
    const requeued = await this.d.repo.applyTransitions(retry.map((t) => ({
      id: t.id, name: 'requeueLost', expectedAttempts: t.attempts, an: null, ki: null, leaseMs: null, clearPublished: true,
    })), fence);
    const ids = new Set(requeued.map((r) => r.id));
    for (const t of retry) if (ids.has(t.id)) await this.d.admission.publish({ ...t, status: 'queued' });
    this.d.metrics.tasksRetried.inc({ reason: LEASE_EXPIRED }, requeued.length);
    this.d.log.warn({ requeued: requeued.length, failed: exhausted.length }, 'expired leases swept');
    return requeued.length;
  }

  /** Requeues every unfinished task of an An that died (fenced by the leader's term). A task in retry backoff is `scheduled` and names no An: the release brings it back. */
  async requeueOfAn(an: string, fence: LeaderFence): Promise<number> {
    return this.requeueTasksOfAn(an, await this.d.repo.findByAn(an, AN_TASKS_MAX), fence);
  }

  /** Requeues `tasks` (as {@link TaskRepository.findByAn} read them) of an An that died, fenced by the leader's term. */
  async requeueTasksOfAn(an: string, tasks: readonly TaskRecord[], fence: LeaderFence): Promise<number> {
    if (tasks.length === 0) return 0;
    const requeued = await this.d.repo.applyTransitions(tasks.map((t) => ({
      id: t.id, name: 'requeueLost', expectedAttempts: t.attempts, an: null, ki: null, leaseMs: null, clearPublished: true,
    })), fence);
    const ids = new Set(requeued.map((r) => r.id));
    for (const t of tasks) if (ids.has(t.id)) await this.d.admission.publish({ ...t, status: 'queued' });
    this.d.metrics.tasksRetried.inc({ reason: AN_LOST }, requeued.length);
    this.d.log.warn({ an, requeued: requeued.length }, 'tasks of a dead An requeued');
    return requeued.length;
  }

  /** Drops admission-map entries of tasks that finished without this principal hearing it. */
  async reconcileAdmitted(olderThanMs: number): Promise<void> {
    const ids = this.d.admission.map.olderThan(Date.now() - olderThanMs, BATCH);
    if (ids.length === 0) return;
    const rows = await this.d.repo.getMany(ids);
    const alive = new Set(rows.filter((r) => !isTerminal(r.status)).map((r) => r.id));
    for (const id of ids) if (!alive.has(id)) this.d.admission.map.release(id);
  }
}
