import { isRetryable } from './error-codes';

/**
 * How often and how soon something is tried again: attempt n (1-based) waits
 * `min(maxMs, initialMs * factor^(n-1))`, of which the last `jitter` share is random, so that
 * many nodes failing at once do not retry in step.
 */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  readonly maxAttempts: number;
  /** Delay after the first failed try, before jitter. */
  readonly initialMs: number;
  /** Growth of the delay per try (2 doubles it; 1 keeps it constant). */
  readonly factor: number;
  /** Cap of the delay, before jitter. */
  readonly maxMs: number;
  /** Share of the delay that is random, in [0, 1]: 0.3 waits between 70 % and 100 % of it. */
  readonly jitter: number;
}

/**
 * The delay in ms before try `attempt + 1`, after try `attempt` (1-based) failed.
 * `rand` returns a value in [0, 1) (tests pass a fixed one).
 */
export function nextDelayMs(policy: RetryPolicy, attempt: number, rand: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(policy.maxMs, policy.initialMs * policy.factor ** exponent);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(ceiling * (1 - jitter + rand() * jitter));
}

/** Whether another try is left after try `attempt` (1-based). */
export function hasAttemptLeft(attempt: number, maxAttempts: number): boolean {
  return attempt < maxAttempts;
}

/**
 * Whether a task whose attempt `attempt` failed with `error` runs again: its code allows it
 * (see {@link isRetryable}; `retryable` is what the reporter said, used only where the code
 * leaves it to the reporter) and an attempt is left.
 */
export function shouldRetry(error: { code: string; retryable: boolean }, attempt: number, maxAttempts: number): boolean {
  return isRetryable(error.code, error.retryable) && hasAttemptLeft(attempt, maxAttempts);
}

/**
 * The store's retry of a statement or transaction the database refused with SQLSTATE 40001/40P01
 * (CockroachDB restarts, deadlocks): short, half jittered. `maxAttempts` comes from `db.maxTxAttempts`.
 */
export const TX_RETRY: Omit<RetryPolicy, 'maxAttempts'> = { initialMs: 20, factor: 2, maxMs: 2000, jitter: 0.5 };

/** Jitter of the An's retry of a failed attempt; its delays come from `an.retryBaseMs`/`an.retryMaxMs`. */
export const ATTEMPT_RETRY_JITTER = 0.3;

/** The An's retry of a failed attempt, from `an.retryBaseMs` and `an.retryMaxMs`. */
export function attemptRetryPolicy(o: { retryBaseMs: number; retryMaxMs: number }, maxAttempts: number): RetryPolicy {
  return { maxAttempts, initialMs: o.retryBaseMs, factor: 2, maxMs: o.retryMaxMs, jitter: ATTEMPT_RETRY_JITTER };
}

/**
 * The Ki's delivery of an attempt's outcome to its An: a few quick tries while the broker
 * recovers; past them the An's lease recovery runs the task again.
 */
export const RESULT_REPORT_RETRY: RetryPolicy = { maxAttempts: 5, initialMs: 200, factor: 2, maxMs: 2000, jitter: 0.2 };

/**
 * The An's sending of an assignment whose publish failed (its broker connection dropped): the same
 * attempt again, a few times while the broker recovers. A Ki runs an attempt once however often it
 * is assigned, so a copy that did arrive changes nothing; past these tries the attempt is lost.
 */
export const ASSIGN_RESEND_RETRY: RetryPolicy = { maxAttempts: 5, initialMs: 200, factor: 2, maxMs: 2000, jitter: 0.2 };
