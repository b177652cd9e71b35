import { setTimeout as sleep } from 'node:timers/promises';
import { DbRetriesExhaustedError } from '../errors';
import { nextDelayMs, TX_RETRY } from '../task';

/**
 * SQLSTATEs with which the database asks the client to run the statement or transaction again:
 * 40001 serialization failure (CockroachDB runs every transaction SERIALIZABLE and answers a
 * conflict with it, on single statements too) and 40P01 deadlock detected (PostgreSQL picks a
 * victim). CockroachDB's 40003 (statement completion unknown) is deliberately not here: that
 * statement may have committed.
 */
export const RETRIED_SQLSTATES = ['40001', '40P01'] as const;
export type RetriedSqlState = (typeof RETRIED_SQLSTATES)[number];

/** The SQLSTATE of `err` if it is one the database wants retried. */
export function retriedSqlState(err: unknown): RetriedSqlState | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return RETRIED_SQLSTATES.find((s) => s === code);
}

/** Whether `err` asks for the whole statement or transaction to run again (40001, 40P01). */
export function isSerializationFailure(err: unknown): boolean {
  return retriedSqlState(err) !== undefined;
}

/** How {@link retrySerializationFailures} retries. */
export interface SerializationRetryOptions {
  /** Tries in all, the first included (`db.maxTxAttempts`); less than 1 counts as 1. */
  maxAttempts: number;
  /** Hears each retry, before its backoff (for `anki_db_retries_total{code}`). */
  onRetry?: (code: RetriedSqlState) => void;
}

/**
 * Runs `attempt` (one statement, or one whole transaction from BEGIN to COMMIT) again with
 * bounded, jittered backoff while the database answers 40001 or 40P01; past `maxAttempts` throws
 * {@link DbRetriesExhaustedError} with the last error as its cause. Any other error is thrown at once.
 *
 * Repeating is safe for every statement, INSERTs and non-idempotent UPDATEs included: the database
 * raises these SQLSTATEs only for a transaction it rolled back whole (a single statement runs in
 * an implicit transaction of its own), so a refused attempt applied nothing. Errors that leave the
 * outcome unknown (a connection lost after sending, CockroachDB's 40003) are not retried here.
 * A statement inside an explicit transaction is never retried on its own: the transaction is
 * aborted, and only the transaction as a whole runs again.
 */
export async function retrySerializationFailures<T>(attempt: () => Promise<T>, o: SerializationRetryOptions): Promise<T> {
  const maxAttempts = Math.max(1, o.maxAttempts);
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const code = retriedSqlState(err);
      if (!code) throw err;
      if (n >= maxAttempts) throw new DbRetriesExhaustedError(code, n, { cause: err });
      o.onRetry?.(code);
    }
    await sleep(nextDelayMs({ ...TX_RETRY, maxAttempts }, n));
  }
}
