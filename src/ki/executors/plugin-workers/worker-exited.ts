import { TaskExecutionError } from '../types';

/**
 * The error of a call whose worker ended before answering (it crashed, called `process.exit`,
 * broke the protocol, or was killed after a cancel or timeout it ignored): retryable, since the
 * next reservation gets a fresh worker.
 */
export function workerExitedError(message: string): TaskExecutionError {
  return new TaskExecutionError(message, { code: 'WORKER_EXITED', retryable: true });
}
