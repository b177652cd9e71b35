import type { ErrorCode } from '../task';
import type { TaskErrorData } from '../protocol';

/** Why the Ki stopped an attempt. */
export type AbortKind = 'timeout' | 'cancelled' | 'superseded' | 'shutdown';

/** The code and retryability each kind of abort reports. */
const ABORT_OUTCOME = {
  /** Another attempt would run just as long. */
  timeout: { code: 'TIMEOUT', retryable: false },
  /** A caller asked for it; the task is finished. */
  cancelled: { code: 'CANCELLED', retryable: false },
  /** A newer attempt of the task took its place here; the An decides about that one. */
  superseded: { code: 'ABORTED', retryable: true },
  /** This Ki is going away: another Ki may run the task. */
  shutdown: { code: 'ABORTED', retryable: true },
} as const satisfies Record<AbortKind, { code: ErrorCode; retryable: boolean }>;

/**
 * The reason the Ki aborts an attempt's `AbortSignal` with. The error code and retryability come
 * from `kind`, never from the text. It is an Error whose message (and string form) is the text,
 * so executors that log, wrap or rethrow `signal.reason` read what they read before.
 */
export class TaskAbortReason extends Error {
  override readonly name = 'TaskAbortReason';
  constructor(readonly kind: AbortKind, readonly text: string) {
    super(text);
  }

  override toString(): string {
    return this.text;
  }
}

/** An abort reason of `kind`, with its text. */
export function abortReason(kind: AbortKind, text: string): TaskAbortReason {
  return new TaskAbortReason(kind, text);
}

/**
 * The error an aborted attempt reports. A reason the Ki did not give (something else aborted the
 * signal) counts as a retryable `ABORTED`, as a shutdown does.
 */
export function abortErrorData(reason: unknown): TaskErrorData {
  if (reason instanceof TaskAbortReason) {
    const { code, retryable } = ABORT_OUTCOME[reason.kind];
    return { code, message: reason.text, retryable };
  }
  return { code: 'ABORTED', message: String(reason ?? 'aborted'), retryable: true };
}
