import { setTimeout as sleep } from 'node:timers/promises';
import { isDataError } from '../errors';
import { type Logger, type Metrics } from '../observability';
import { type ResultItem, type TaskErrorData, type TopologyNames, deadLetters } from '../protocol';
import type { AppliedTransition, Transition } from '../store';
import { attemptRetryPolicy, errorCodeLabel, hasAttemptLeft, nextDelayMs, shouldRetry, TRANSITIONS } from '../task';
import type { MessageBus } from '../transport';
import type { DispatchRecorder } from './dispatch-recorder';
import type { EventBatcher } from './event-batcher';
import type { AttemptTimes, FinishTransitionName, HeldTask, TaskOutcome } from './in-flight';
import type { HeldTasks } from './held-tasks';
import type { KiBreaker } from './ki-breaker';
import type { KiPool } from './ki-pool';
import type { ReplicaVotes } from './replica-votes';
import { RESULT_UNSTORABLE, unstorableError } from './result-check';
import type { StateWriter } from './state-writer';
import type { TallyOutcome } from './vote-tally';

/** What the An's write resolves when the store refused the values of the transition. */
const REFUSED = Symbol('refused');

/** The failure stored in place of an outcome the store refused (a fixed text: the DB's own stays in the log). */
function refusedError(original: TaskErrorData | null | undefined): TaskErrorData {
  const what = original ? `the error ${original.code.slice(0, 64)} of the attempt` : 'the result of the attempt';
  return unstorableError(`the task store refused ${what}`);
}

/** One replica's report, as the handlers use it: a result item with the Ki that sent it. */
export type KiResult = ResultItem & { ki: string };

/** What {@link OutcomeHandler} needs. */
export interface OutcomeHandlerDeps {
  /** `an.retryBaseMs` and `an.retryMaxMs`: the backoff before a failed attempt runs again. */
  retry: { retryBaseMs: number; retryMaxMs: number };
  /** `an.dbRetryMs`: wait before a state write that failed because the DB is away is tried again. */
  dbRetryMs: number;
  writer: Pick<StateWriter, 'apply'>;
  held: HeldTasks;
  pool: Pick<KiPool, 'release'>;
  recorder: Pick<DispatchRecorder, 'guardOf' | 'unassign'>;
  votes: Pick<ReplicaVotes, 'settle'>;
  events: Pick<EventBatcher, 'add'>;
  bus: Pick<MessageBus, 'send'>;
  names: TopologyNames;
  metrics: Pick<Metrics, 'dbErrors' | 'tasksRetried' | 'tasksFinished' | 'taskDuration' | 'taskQueueWait' | 'taskRunTime'>;
  log: Logger;
  /** Counts timeouts and crashes per Ki; without it no Ki is ever benched. */
  breaker?: Pick<KiBreaker, 'record'>;
}

/**
 * What an attempt's end does to its task: a result, a failure or a lost replica is stored as
 * the outcome (guarded by the attempt), counted as a vote, or scheduled for a retry after a
 * backoff; a stored failure leaves a note in the dead-letter queue, and every terminal state a
 * `task.event`.
 */
export class OutcomeHandler {
  constructor(private readonly d: OutcomeHandlerDeps) {}

  /** A replica of the current attempt reported. */
  async onResult(t: HeldTask, p: KiResult): Promise<void> {
    if (t.claim?.state === 'writing') {
      await t.claim.done;
      if (this.d.held.current(p.taskId, p.attempt, p.ki) !== t) return;
    }
    const run = t.runs.get(p.ki);
    if (run) this.d.pool.release(p.ki, run.reservation);
    t.runs.delete(p.ki);
    void this.d.breaker?.record(p.ki, p.ok ? null : (p.error?.code ?? 'UNKNOWN'));
    const times = { startedAt: new Date(t.firstStartedAtMs ?? p.startedAtMs), finishedAt: new Date(p.finishedAtMs) };
    if (t.tally) return this.#onVote(t, t.tally.record(p.ki, p.ok, p.result ?? null), times);
    if (p.ok) return this.finish(t, 'succeed', { result: p.result ?? null, error: null }, times);
    const error = p.error ?? { code: 'UNKNOWN', message: 'attempt failed without an error', retryable: false };
    // The code decides where the table knows it (a TIMEOUT is never retried, a KI_BUSY always);
    // what the Ki said counts only for the codes the table leaves to it.
    if (shouldRetry(error, t.attempts, t.spec.maxAttempts)) return this.#retryLater(t, error);
    return this.finish(t, 'fail', { result: null, error }, times);
  }

  /** A replica's Ki is gone: a redundant task loses that vote; a single one is retried. */
  async replicaLost(t: HeldTask, ki: string, error: TaskErrorData): Promise<void> {
    if (t.claim?.state === 'writing') await t.claim.done;
    const run = t.runs.get(ki);
    if (!run) return;
    this.d.pool.release(ki, run.reservation);
    t.runs.delete(ki);
    if (t.tally) return this.#onVote(t, t.tally.forfeit(ki));
    if (hasAttemptLeft(t.attempts, t.spec.maxAttempts)) return this.#retryLater(t, error);
    return this.finish(t, 'fail', { result: null, error });
  }

  async #onVote(t: HeldTask, outcome: TallyOutcome, times?: AttemptTimes): Promise<void> {
    const decision = await this.d.votes.settle(t, outcome);
    if (!decision) return;
    return this.finish(t, decision.transition, decision.outcome, times);
  }

  /**
   * The task waits out a jittered backoff in the store: `scheduled` with runAt = now + backoff,
   * its An, Ki and lease cleared, and this An lets it go. The leader releases it to the queue
   * when due, so the backoff outlives this An (a crash, a restart, a shutdown).
   */
  async #retryLater(t: HeldTask, error: TaskErrorData): Promise<void> {
    const { held } = this.d;
    // A closed label value: whatever code a Ki reports, the metric's series stay bounded.
    this.d.metrics.tasksRetried.inc({ reason: errorCodeLabel(error.code) });
    held.releaseRuns(t);
    const { guard, unrecorded } = await this.d.recorder.guardOf(t, 'retry');
    const delayMs = nextDelayMs(attemptRetryPolicy(this.d.retry, t.spec.maxAttempts), t.attempts);
    const applied = await this.#write({ id: t.spec.id, ...guard, an: null, ki: null, leaseMs: null, runAfterMs: delayMs, outcome: { result: null, error } }, t);
    if (applied === undefined) return;
    if (applied === REFUSED) return this.finish(t, 'fail', { result: null, error: refusedError(error) });
    if (!applied) return unrecorded === undefined ? held.drop(t) : this.d.recorder.unassign(t, unrecorded);
    this.d.log.info({ taskId: t.spec.id, attempts: applied.attempts, code: error.code, delayMs }, 'attempt will be retried');
    // The row keeps the task now: an unrecorded dispatch's pending message is acked with the drop.
    held.drop(t);
  }

  /** Stores the outcome by transition `name` (retrying while the DB is away), then lets the task go. */
  async finish(t: HeldTask, name: FinishTransitionName, outcome: TaskOutcome, times?: AttemptTimes): Promise<void> {
    const status = TRANSITIONS[name].to;
    const finishedAt = times?.finishedAt ?? new Date();
    const { guard, unrecorded } = await this.d.recorder.guardOf(t, name);
    const written = await this.#write({ id: t.spec.id, ...guard, leaseMs: null, outcome, finishedAt, ...(times ? { startedAt: times.startedAt } : {}) }, t);
    if (written === undefined) return;
    if (written === REFUSED && outcome.error?.code !== RESULT_UNSTORABLE) {
      // The same guard, as a failure: a refused success fails its attempt, any failure stays one.
      return this.finish(t, name === 'succeed' ? 'fail' : name, { result: null, error: refusedError(outcome.error) }, times);
    }
    // Refused even as a plain failure: nothing more to try here; the lease sweep takes the task back.
    const applied = written === REFUSED ? null : written;
    if (!applied && unrecorded !== undefined) return this.d.recorder.unassign(t, unrecorded);
    this.d.held.drop(t);
    if (!applied) return;
    this.d.metrics.tasksFinished.inc({ status });
    this.d.metrics.taskDuration.observe({ status }, Math.max(0, finishedAt.getTime() - t.spec.createdAtMs) / 1000);
    if (times) this.#observeWaitAndRun(status, t.spec.createdAtMs, times);
    if (status === 'failed') {
      this.d.log.info({ taskId: t.spec.id, attempts: t.attempts, code: outcome.error?.code }, 'task failed');
      this.#noteDeadLetter(t, outcome.error?.code ?? 'UNKNOWN', finishedAt);
    }
    this.d.events.add({ taskId: t.spec.id, status, owner: t.spec.owner, attempts: t.attempts, finishedAtMs: finishedAt.getTime() });
  }

  /**
   * Splits the task's time into waiting (submit → start of the attempt that ended it) and running
   * (that attempt's start → end). The start and end come from the Ki's clock and the submit from
   * the principal's: a skew between them must not make a negative wait.
   */
  #observeWaitAndRun(status: string, createdAtMs: number, times: AttemptTimes): void {
    const startedAtMs = times.startedAt.getTime();
    this.d.metrics.taskQueueWait.observe(Math.max(0, startedAtMs - createdAtMs) / 1000);
    this.d.metrics.taskRunTime.observe({ status }, Math.max(0, times.finishedAt.getTime() - startedAtMs) / 1000);
  }

  /**
   * A note goes to the dead-letter queue, where an operator can find and re-drive the task.
   * Not the spec: its payload would fill the broker's disk and outlive DELETE /tasks/{id}.
   */
  #noteDeadLetter(t: HeldTask, code: string, failedAt: Date): void {
    const note = { v: 1 as const, taskId: t.spec.id, type: t.spec.type, owner: t.spec.owner, attempts: t.attempts, code, failedAtMs: failedAt.getTime() };
    this.d.bus.send(deadLetters(this.d.names, t.spec.type), 'task.failed', note, { persistent: true })
      .catch(() => undefined);
  }

  /**
   * Writes a transition, retrying while the DB is away; undefined when the task was taken back
   * meanwhile. A data error (SQLSTATE 22/23/54: the store refuses a value of this row) is never an
   * outage: retrying it would wedge the task, and its lease would keep it here, for good. It
   * resolves {@link REFUSED} and the caller fails the task instead.
   */
  async #write(transition: Transition, t: HeldTask): Promise<AppliedTransition | null | undefined | typeof REFUSED> {
    for (;;) {
      try {
        return await this.d.writer.apply(transition);
      } catch (err) {
        this.d.metrics.dbErrors.inc();
        if (isDataError(err)) {
          this.d.log.error({ taskId: t.spec.id, transition: transition.name, sqlstate: (err as { code?: string }).code, err: (err as Error).message }, 'the store refused this state of the task; it fails instead');
          return REFUSED;
        }
        this.d.log.warn({ taskId: t.spec.id, err: (err as Error).message }, 'state not recorded; retrying');
        await sleep(this.d.dbRetryMs);
        if (!this.d.held.holds(t)) return undefined;
      }
    }
  }
}
