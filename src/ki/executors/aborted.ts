import { TaskExecutionError } from './types';

/**
 * One line describing why an `AbortSignal` fired (an Error, a DOMException or any value). The
 * Ki aborts with a `TaskAbortReason`, whose message is its text.
 */
export function abortReasonText(reason: unknown): string {
  if (reason === undefined) return 'aborted';
  if (typeof reason === 'string') return reason;
  const message = typeof reason === 'object' && reason !== null && 'message' in reason ? reason.message : undefined;
  if (typeof message === 'string' && message !== '') return message;
  try {
    return JSON.stringify(reason) ?? String(reason);
  } catch {
    return String(reason);
  }
}

/**
 * The error every executor rejects with when its task's signal fires (cancel, timeout or
 * shutdown): code `ABORTED`, not retryable here; the Ki decides whether a timeout is retried.
 */
export function abortedError(reason: unknown, details?: unknown): TaskExecutionError {
  return new TaskExecutionError(`task aborted: ${abortReasonText(reason)}`, {
    code: 'ABORTED',
    retryable: false,
    cause: reason,
    details,
  });
}
