/**
 * Whether a failed attempt with this code may be retried: always, never, or as the node that
 * reported it said (the executor knows: an HTTP 503 is worth a retry, a 404 is not).
 */
export type Retryability = 'always' | 'never' | 'reported';

/**
 * Every error code a task's error may carry, with its retryability. A closed set: metrics label
 * by it, clients branch on it. A code an executor or plug-in makes up outside this set travels
 * as {@link EXECUTOR_ERROR} (see {@link executorErrorCode}).
 */
export const ERROR_CODES = {
  // The Ki stopped the attempt (see the Ki's typed abort reasons).
  /** The attempt ran past the task's `timeoutMs`. Another attempt would run as long. */
  TIMEOUT: 'never',
  /** A caller cancelled the task. */
  CANCELLED: 'never',
  /**
   * The attempt was stopped. The Ki reports it retryable when it stopped the attempt itself
   * (shutting down, or a newer attempt replaced it); an executor's own abort is not.
   */
  ABORTED: 'reported',
  // The An lost the attempt.
  /** The Ki running the attempt left the cluster or stopped heartbeating. */
  KI_LOST: 'always',
  /** The assignment could not be sent to the Ki. */
  KI_UNREACHABLE: 'always',
  /** The Ki had no free slot when the assignment arrived. */
  KI_BUSY: 'always',
  /** The task's An died; the leader requeued the task (a retry reason, not stored on the task). */
  AN_LOST: 'always',
  // The task itself.
  /** No executor for the task's type on the Ki it reached. */
  UNKNOWN_TYPE: 'never',
  /** The payload does not fit its executor. */
  BAD_PAYLOAD: 'never',
  /** The task failed on purpose (the `fail` executor, or a plug-in error without a code). */
  TASK_FAILED: 'reported',
  /** An executor threw something that is not a task error, or used a code outside this set. */
  EXECUTOR_ERROR: 'reported',
  /** The command could not be started (retryable when the cause is transient, e.g. EAGAIN). */
  EXEC_SPAWN_FAILED: 'reported',
  /** The command exited non-zero or was killed. */
  EXEC_EXIT: 'never',
  /** The command is not in `ki.execAllowlist`. */
  EXEC_NOT_ALLOWED: 'never',
  /** The endpoint did not answer within the task's time. */
  HTTP_TIMEOUT: 'always',
  /** The endpoint could not be reached. */
  HTTP_UNREACHABLE: 'always',
  /** The endpoint answered with a redirect, which is not followed. */
  HTTP_REDIRECT: 'never',
  /** No endpoint is configured on the Ki (`ki.httpEndpoint`). */
  HTTP_NOT_CONFIGURED: 'never',
  /** The endpoint answered a non-2xx status (retryable for 5xx and 429). */
  HTTP_STATUS: 'reported',
  /** The plug-in worker process running the attempt ended before it answered (crashed, exited, was killed after ignoring a cancel, or broke the protocol); the next attempt gets a fresh one. */
  WORKER_EXITED: 'always',
  // Models.
  /** The Ki has no plug-in hooks for the model's type, or holds as many models as it may and none is idle. */
  MODEL_UNAVAILABLE: 'always',
  /** The plug-in's load hook failed (retryable when it said so). */
  MODEL_LOAD_FAILED: 'reported',
  // The An decided.
  /** The result (or error) is larger or deeper than the An stores. */
  RESULT_UNSTORABLE: 'never',
  /** Too few replicas agreed on a result. */
  NO_QUORUM: 'never',
  /** No Ki of the cluster could ever run the task. */
  UNSATISFIABLE: 'never',
  /** The task's lease expired with its attempts used up. */
  LEASE_EXPIRED: 'never',
  /** An An took the task over with its attempts used up. */
  ATTEMPTS_EXHAUSTED: 'never',
  /** A Ki reported a failed attempt without saying why. */
  UNKNOWN: 'never',
} as const satisfies Record<string, Retryability>;

/** One code of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The code executor errors outside {@link ERROR_CODES} are carried under. */
export const EXECUTOR_ERROR = 'EXECUTOR_ERROR' satisfies ErrorCode;

/** Whether `code` is one of {@link ERROR_CODES}. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** The retryability of a code; a code outside the set is treated as {@link EXECUTOR_ERROR}'s. */
export function retryabilityOf(code: string): Retryability {
  return ERROR_CODES[errorCodeLabel(code)];
}

/**
 * Whether an attempt that failed with `code` may run again, given what its reporter said:
 * the table decides where it knows, the reporter only for codes marked `reported`.
 */
export function isRetryable(code: string, reported: boolean): boolean {
  const r = retryabilityOf(code);
  return r === 'always' || (r === 'reported' && reported);
}

/**
 * The closed value of a code for a metrics label or a branch: itself when it is in the set,
 * else {@link EXECUTOR_ERROR}. Keeps label values bounded whatever a node reports.
 */
export function errorCodeLabel(code: string): ErrorCode {
  return isErrorCode(code) ? code : EXECUTOR_ERROR;
}

/** What an executor's own error becomes on the wire: a closed code, with the original kept in the text. */
export interface CarriedExecutorError {
  code: ErrorCode;
  message: string;
}

/**
 * Carries an executor's (or plug-in's) error code: a code in the set travels as it is; any
 * other travels as {@link EXECUTOR_ERROR} with the original code leading the message
 * (`[MY_CODE] text`), so the reader still sees it and labels stay closed. The message is cut to
 * `maxMessageChars` after the prefix is added.
 */
export function executorErrorCode(code: string, message: string, maxMessageChars: number): CarriedExecutorError {
  if (isErrorCode(code)) return { code, message: message.slice(0, maxMessageChars) };
  return { code: EXECUTOR_ERROR, message: `[${code.slice(0, 64)}] ${message}`.slice(0, maxMessageChars) };
}
