import { ATTR, SPAN, withSpan, type Logger, type Metrics } from '../observability';
import type { TaskRepository, Transition } from '../store';
import { hasAttemptLeft, isHeld, withDispatch } from '../task';
import { gpusByKi, type FinishTask, type FinishTransitionName, type HeldTask } from './in-flight';
import type { HeldTasks } from './held-tasks';
import type { KiCommands } from './ki-commands';
import type { StateWriter } from './state-writer';
import { VoteTally } from './vote-tally';

/** The guard of an outcome's write, and the attempts of a dispatch it records too (if unrecorded). */
export interface OutcomeGuard {
  guard: Pick<Transition, 'name' | 'expectedAttempts' | 'an' | 'ki' | 'gpus'>;
  /** Set when the dispatch was not recorded yet: the attempts the pending message had. */
  unrecorded?: number;
}

/** What {@link DispatchRecorder} needs. */
export interface DispatchRecorderDeps {
  nodeId: string;
  leaseMs: number;
  /**
   * `an.dispatchRecordDelayMs`: a single-replica task taken from a pending message is assigned at
   * once and its dispatch recorded only this long after: most short tasks report their outcome
   * first, and their outcome is then written with the dispatch in one row version (queued →
   * terminal). Until one of the two is stored the pending message stays unacked, so a crash of
   * this An still brings the task back.
   */
  dispatchRecordDelayMs: number;
  /** `an.dbRetryMs`: wait before a dispatch whose write failed (the DB is away) is tried again. */
  dbRetryMs: number;
  writer: Pick<StateWriter, 'apply'>;
  repo: Pick<TaskRepository, 'get'>;
  held: HeldTasks;
  commands: Pick<KiCommands, 'assign' | 'cancel'>;
  metrics: Pick<Metrics, 'dbErrors' | 'tasksRetried'>;
  log: Logger;
  /** Stores a terminal outcome (for a task taken over with no attempts left). */
  finish: FinishTask;
}

/**
 * Records each dispatch (queued → dispatched, the attempt bumped, the lease taken) and assigns the
 * attempt to its Kis. A pending message is acked once its dispatch is stored. A fresh single-replica
 * dispatch is assigned first and recorded later (see {@link DispatchRecorderDeps.dispatchRecordDelayMs}): the claim on
 * the task says which, and an outcome's write records such a dispatch too (see {@link guardOf}).
 */
export class DispatchRecorder {
  constructor(private readonly d: DispatchRecorderDeps) {}

  /** Records the dispatch and assigns the attempt, in the task's trace (from receipt of the pending message). */
  dispatch(t: HeldTask): Promise<void> {
    return withSpan(SPAN.taskSchedule, { [ATTR.taskId]: t.spec.id, [ATTR.taskType]: t.spec.type, [ATTR.nodeId]: this.d.nodeId, [ATTR.kiId]: [...t.runs.keys()].join(',') },
      () => this.#dispatchAttempt(t), t.trace, { startTimeMs: t.sinceMs });
  }

  async #dispatchAttempt(t: HeldTask): Promise<void> {
    const { held, writer } = this.d;
    if (t.delivery && t.runs.size === 1 && !t.recordFirst && !(t.spec.redundancy && t.spec.redundancy.replicas > 1)) return this.#assignUnrecorded(t);
    const kis = [...t.runs.keys()];
    const lease = { an: this.d.nodeId, ki: kis.join(','), ...gpusByKi(t), leaseMs: this.d.leaseMs };
    try {
      let applied = await writer.apply({ id: t.spec.id, name: 'dispatch', expectedAttempts: t.attempts, ...lease });
      if (!applied) {
        const row = await this.d.repo.get(t.spec.id);
        if (row?.status === 'queued') {
          applied = await writer.apply({ id: t.spec.id, name: 'dispatch', expectedAttempts: row.attempts, ...lease });
        } else if (row && isHeld(row.status) && row.leaseExpiresAt && row.leaseExpiresAt.getTime() < Date.now()) {
          // Its An stopped renewing the lease: take it over as a new attempt.
          if (!hasAttemptLeft(row.attempts, row.maxAttempts)) {
            t.attempts = row.attempts;
            held.releaseRuns(t);
            await this.d.finish(t, 'fail', { result: null, error: row.error ?? { code: 'ATTEMPTS_EXHAUSTED', message: `no attempt finished after ${row.attempts} tries`, retryable: false } });
            return;
          }
          this.d.metrics.tasksRetried.inc({ reason: 'takeover' });
          applied = await writer.apply({ id: t.spec.id, name: 'takeOver', expectedAttempts: row.attempts, ...lease });
        }
      }
      if (!applied) return held.drop(t); // finished, cancelled, deleted, or running under another An
      t.attempts = applied.attempts;
    } catch (err) {
      this.d.metrics.dbErrors.inc();
      this.d.log.warn({ taskId: t.spec.id, err: (err as Error).message }, 'dispatch not recorded; will retry');
      held.releaseRuns(t);
      setTimeout(() => held.waitAgain(t), this.d.dbRetryMs).unref();
      return;
    }
    t.delivery?.ack();
    t.delivery = undefined;
    const redundancy = t.spec.redundancy;
    t.tally = redundancy && redundancy.replicas > 1 ? new VoteTally(redundancy.replicas, redundancy.quorum) : undefined;
    held.updateInFlight();
    this.d.commands.assign(t);
  }

  /** Assigns now and records the dispatch later, unless the outcome is stored first (it then records both). */
  #assignUnrecorded(t: HeldTask): void {
    const base = t.attempts;
    const ki = [...t.runs.keys()].join(',');
    t.attempts = base + 1;
    t.tally = undefined;
    t.claim = { state: 'deferred', base, ki, ...gpusByKi(t), timer: setTimeout(() => this.#recordDispatch(t), this.d.dispatchRecordDelayMs) };
    this.d.held.updateInFlight();
    this.d.commands.assign(t);
  }

  /** The deferred dispatch record is due: the task still runs. Its success acks the pending message. */
  #recordDispatch(t: HeldTask): void {
    const c = t.claim;
    if (c?.state !== 'deferred' || !this.d.held.holds(t)) return;
    const running = t.firstStartedAtMs !== undefined;
    const done = (async () => {
      let applied;
      try {
        applied = await this.d.writer.apply({
          id: t.spec.id, name: running ? 'dispatchStarted' : 'dispatch', expectedAttempts: c.base, an: this.d.nodeId, ki: c.ki, ...(c.gpus ? { gpus: c.gpus } : {}), leaseMs: this.d.leaseMs,
          ...(running ? { startedAt: new Date(t.firstStartedAtMs!) } : {}),
        });
      } catch (err) {
        this.d.metrics.dbErrors.inc();
        this.d.log.warn({ taskId: t.spec.id, err: (err as Error).message }, 'dispatch not recorded; will retry');
        t.claim = { ...c, timer: setTimeout(() => this.#recordDispatch(t), this.d.dbRetryMs) };
        return;
      }
      t.claim = undefined;
      if (!this.d.held.holds(t)) return;
      if (!applied) return this.unassign(t, c.base);
      t.delivery?.ack();
      t.delivery = undefined;
      if (!running && t.firstStartedAtMs !== undefined) this.recordRunning(t.spec.id, t.attempts, t.firstStartedAtMs);
    })();
    t.claim = { state: 'writing', done };
  }

  /**
   * An unrecorded dispatch whose guard failed (cancelled, finished or taken meanwhile, or the
   * pending message was stale): stop its run and dispatch it again the usual way, which reads the
   * row and decides.
   */
  unassign(t: HeldTask, base: number): void {
    for (const ki of t.runs.keys()) void this.d.commands.cancel(ki, t, 'dispatch not recorded');
    this.d.held.releaseRuns(t);
    t.attempts = base;
    t.claim = undefined;
    t.recordFirst = true;
    t.firstStartedAtMs = undefined;
    this.d.held.waitAgain(t);
  }

  /**
   * The guard of the write of transition `name`: with the dispatch still unrecorded, this write
   * records it too ({@link withDispatch}: from queued at the attempts the pending message had).
   * Waits for a record already on its way, so that the two never meet in one batch.
   */
  async guardOf(t: HeldTask, name: FinishTransitionName | 'retry'): Promise<OutcomeGuard> {
    if (t.claim?.state === 'writing') await t.claim.done;
    const c = t.claim;
    // Only an assigned attempt has a deferred claim; `failUnplaceable` ends a task that never was.
    if (c?.state !== 'deferred' || name === 'failUnplaceable') return { guard: { name, expectedAttempts: t.attempts } };
    clearTimeout(c.timer);
    return { guard: { name: withDispatch(name), expectedAttempts: c.base, an: this.d.nodeId, ki: c.ki, ...(c.gpus ? { gpus: c.gpus } : {}) }, unrecorded: c.base };
  }

  /** Records that the attempt started (dispatched → running); a lost write only delays what `/tasks` shows. */
  recordRunning(id: string, attempt: number, startedAtMs: number): void {
    this.d.writer.apply({ id, name: 'start', expectedAttempts: attempt, startedAt: new Date(startedAtMs) })
      .catch((err: Error) => this.d.log.debug({ taskId: id, err: err.message }, 'running state not recorded'));
  }
}
