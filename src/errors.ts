/** Base of every error the platform raises on purpose: a stable code, a retryable flag and a cause. */
export abstract class PlatformError extends Error {
  abstract readonly code: string;
  readonly retryable: boolean = false;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ConfigError extends PlatformError {
  override readonly code = 'CONFIG_INVALID';
}

/** The store could not be reached or refused the write; callers answer 503. */
export class StoreUnavailableError extends PlatformError {
  override readonly code = 'STORE_UNAVAILABLE';
  override readonly retryable = true;
}

/**
 * The database asked for a retry (40001 serialization failure, 40P01 deadlock) on every one of
 * the attempts allowed (`db.maxTxAttempts`). Nothing of the statement or transaction was written:
 * such a refusal rolls it back whole. `cause` is the database's last error.
 */
export class DbRetriesExhaustedError extends PlatformError {
  override readonly code = 'DB_RETRIES_EXHAUSTED';
  override readonly retryable = true;
  constructor(readonly sqlState: string, readonly attempts: number, options?: ErrorOptions) {
    super(`the database asked for a retry (SQLSTATE ${sqlState}, ${sqlState === '40P01' ? 'deadlock detected' : 'serialization failure'}) on all ${attempts} attempts; nothing of the statement was written`, options);
  }
}

/** The store refused what a caller sent (a value it cannot hold), not the write as such: a 400. */
export class StoreRefusedDataError extends PlatformError {
  override readonly code = 'STORE_REFUSED_DATA';
}

/**
 * SQLSTATE classes caused by the rows written rather than by the database's state: data
 * exceptions (22: a value it cannot hold), integrity violations (23) and program limits (54: a
 * value too large or too deeply nested). Retrying such a row can never succeed.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/** The broker did not confirm a publish. */
export class PublishFailedError extends PlatformError {
  override readonly code = 'PUBLISH_FAILED';
  override readonly retryable = true;
}

/** A message failed a security or schema check; `reason` is the metrics label. */
export class MessageRejectedError extends PlatformError {
  override readonly code = 'MESSAGE_REJECTED';
  constructor(readonly reason: RejectReason, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export type RejectReason = 'too_large' | 'malformed' | 'unknown_key' | 'decrypt' | 'token' | 'role' | 'sender' | 'replay' | 'stale' | 'schema' | 'join' | 'pop';

/** A guarded state change found the task in another state or attempt. */
export class TransitionConflictError extends PlatformError {
  override readonly code = 'TRANSITION_CONFLICT';
}

/** A transition named outside the table of `task/` (a bug of the caller, not of the task). */
export class UnknownTransitionError extends PlatformError {
  override readonly code = 'TRANSITION_UNKNOWN';
  constructor(readonly transition: string) {
    super(`unknown task transition "${transition}"`);
  }
}

/** The principal holds too many admitted tasks; callers answer 503. */
export class OverloadedError extends PlatformError {
  override readonly code = 'OVERLOADED';
  override readonly retryable = true;
}

/** A write carried a leader term lower than the highest seen. */
export class StaleTermError extends PlatformError {
  override readonly code = 'STALE_TERM';
}
