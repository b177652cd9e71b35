import type { Database } from './db';
import { RETRY_HISTORY_MAX, type RetriedRun, type TaskRecord } from './task-record';
import { COLUMNS, fromRow, json, type TaskRow } from './task-row';
import { sqlStates } from './transition-guard';
import { TRANSITIONS } from '../task';
import { appendAttemptLogSql } from './attempt-log';

const RETRYABLE_SQL = sqlStates(TRANSITIONS.retryFailed.from);
/** A caller's retry: the task is queued again at the attempts it used; the next dispatch counts the new one. */
const RETRY_LOG_SQL = appendAttemptLogSql({ status: `'${TRANSITIONS.retryFailed.to}'`, attempt: 't.attempts', an: 'NULL::text', ki: 'NULL::text' });

/**
 * The most attempts a task may be given in all: the wire's task spec refuses more (`maxAttempts`
 * of `taskSpecSchema` in protocol/messages.ts), so a pending message with more would be refused
 * by every An and its task would never run.
 */
export const MAX_TASK_ATTEMPTS = 100;

/** Why a task cannot run again. */
export type RetryRefusal = 'not-retryable' | 'attempts-exhausted' | 'changed';

/**
 * The attempts a retried task may use in all: as many more as its last run was given (what it
 * was submitted with, on the first retry), within {@link MAX_TASK_ATTEMPTS}.
 */
export function retriedMaxAttempts(task: Pick<TaskRecord, 'attempts' | 'maxAttempts' | 'retryHistory'>): number {
  const runStartedAt = task.retryHistory?.at(-1)?.attempts ?? 0;
  const budget = Math.max(1, task.maxAttempts - runStartedAt);
  return Math.min(MAX_TASK_ATTEMPTS, task.attempts + budget);
}

/** The retries a task has had (the newest history entry names its number, even once older ones are dropped). */
const retriesOf = (task: Pick<TaskRecord, 'retryHistory'>): number => task.retryHistory?.at(-1)?.retry ?? 0;

/**
 * A failed task's next run under the same id: the `retryFailed` transition of the task table.
 * The run that failed goes into the task's `retry_history`; the next dispatch counts the new
 * attempt as always.
 */
export class TaskRetryRepository {
  constructor(private readonly db: Database) {}

  /**
   * Puts `task` (as the caller read it) back in the queue, unpublished, with a fresh attempt
   * budget. Fenced by its status, its attempts and its retry count, so of two retries of the
   * same run (a double click, two principals) one applies; the other, and a retry of a task that
   * moved on, gets `changed`. Returns the task as stored, or why it cannot run again.
   */
  async retry(task: TaskRecord, by: string, at = new Date()): Promise<{ task: TaskRecord } | { refused: RetryRefusal }> {
    if (!(TRANSITIONS.retryFailed.from as readonly string[]).includes(task.status)) return { refused: 'not-retryable' };
    if (task.attempts >= MAX_TASK_ATTEMPTS) return { refused: 'attempts-exhausted' };
    const retries = retriesOf(task);
    const run: RetriedRun = {
      retry: retries + 1, attempts: task.attempts, maxAttempts: task.maxAttempts, error: task.error,
      finishedAt: task.finishedAt?.toISOString() ?? null, retriedAt: at.toISOString(), retriedBy: by.slice(0, 256),
    };
    const history = [...(task.retryHistory ?? []), run].slice(-RETRY_HISTORY_MAX);
    // The error stays on the row until the next run's outcome replaces it, as after an automatic retry.
    // `run_at` = now: the run is due from the retry on, and the sweeper gives its publish the same
    // grace as a task the leader just released (`created_at` alone would let it republish at once).
    const r = await this.db.query<TaskRow>(
      `UPDATE tasks AS t SET status = '${TRANSITIONS.retryFailed.to}', max_attempts = $3::int, retry_history = $4::jsonb, retries = $5::int,
         an = NULL, ki = NULL, lease_expires_at = NULL, published_at = NULL, progress = NULL, started_at = NULL, finished_at = NULL, run_at = now(), updated_at = now(),
         ${RETRY_LOG_SQL}
       WHERE id = $1::uuid AND status IN (${RETRYABLE_SQL}) AND attempts = $2::int AND COALESCE(retries, 0) = $6::int
       RETURNING ${COLUMNS}`,
      [task.id, task.attempts, retriedMaxAttempts(task), json(history), retries + 1, retries],
    );
    const row = r.rows[0];
    return row ? { task: fromRow(row) } : { refused: 'changed' };
  }
}
