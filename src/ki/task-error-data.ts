import type { TaskErrorData } from '../protocol';
import { EXECUTOR_ERROR, executorErrorCode } from '../task';
import { TaskExecutionError } from './executors/types';

/** Longest error text on the wire (the schema's limit). */
const MAX_ERROR_MESSAGE_CHARS = 8192;

/**
 * An executor's failure as the wire carries it. A code outside the closed set travels as
 * EXECUTOR_ERROR with the original code leading the text: the An labels metrics by code, and a
 * plug-in must not be able to grow a label without bound.
 */
export function toErrorData(err: unknown): TaskErrorData {
  if (err instanceof TaskExecutionError) {
    const carried = executorErrorCode(err.code, err.message, MAX_ERROR_MESSAGE_CHARS);
    return { ...carried, retryable: err.retryable, ...(err.details !== undefined ? { details: err.details } : {}) };
  }
  return { code: EXECUTOR_ERROR, message: String((err as Error)?.message ?? err).slice(0, MAX_ERROR_MESSAGE_CHARS), retryable: false };
}
