import { TaskExecutionError } from '../types';
import type { WorkerError } from './ipc-messages';

const MAX_MESSAGE_CHARS = 8192;
const MAX_CODE_CHARS = 64;

/**
 * A handler's failure as a worker sends it: the code, text and retryability an in-process
 * handler's error would carry (a plain Error is an EXECUTOR_ERROR), cut to the wire's bounds.
 */
export function toWorkerError(err: unknown): WorkerError {
  const message = String((err as Error)?.message ?? err).slice(0, MAX_MESSAGE_CHARS);
  if (err instanceof TaskExecutionError) {
    return { code: err.code.slice(0, MAX_CODE_CHARS), message, retryable: err.retryable, ...(err.details !== undefined ? { details: err.details } : {}) };
  }
  return { code: 'EXECUTOR_ERROR', message, retryable: false };
}

/**
 * The task error a worker's report becomes on the Ki: the same as an in-process handler that
 * threw it. The code is still checked against the closed set where results are reported.
 */
export function fromWorkerError(e: WorkerError): TaskExecutionError {
  return new TaskExecutionError(e.message, { code: e.code, retryable: e.retryable, ...(e.details !== undefined ? { details: e.details } : {}) });
}
