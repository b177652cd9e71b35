import type { ResultItem, TaskErrorData } from '../protocol';
import { isWellFormed } from '../util';

/** Error code of an attempt whose result or error the task store cannot hold. Never retried. */
export const RESULT_UNSTORABLE = 'RESULT_UNSTORABLE';

/** What a stored result or error may be. */
export interface ResultLimits {
  /** Largest JSON text, in UTF-8 bytes. */
  maxBytes: number;
  /** Deepest nesting of arrays and objects. */
  maxDepth: number;
}

function stringProblem(s: string, where: string): string | undefined {
  if (s.includes('\u0000')) return `${where} holds U+0000 (NUL), which the task store cannot hold`;
  if (!isWellFormed(s)) return `${where} holds a lone UTF-16 surrogate, which is not valid Unicode`;
  return undefined;
}

/**
 * Why the task store (PostgreSQL jsonb) cannot hold `value`, or undefined when it can. jsonb
 * refuses U+0000 and lone surrogates, in strings and in keys alike (SQLSTATE 22P05 / 22P02), and
 * nesting and size are bounded so that neither `JSON.stringify` nor the database runs out of stack.
 * Walks iteratively: the value came off the wire and may be nested deeper than the call stack.
 */
export function unstorableReason(value: unknown, limits: ResultLimits): string | undefined {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = stringProblem(v, 'a string');
      if (problem) return problem;
    } else if (v !== null && typeof v === 'object') {
      if (depth >= limits.maxDepth) return `it nests deeper than ${limits.maxDepth} levels`;
      if (Array.isArray(v)) {
        for (const item of v) stack.push({ v: item, depth: depth + 1 });
      } else {
        for (const [key, item] of Object.entries(v)) {
          const problem = stringProblem(key, 'a key');
          if (problem) return problem;
          stack.push({ v: item, depth: depth + 1 });
        }
      }
    }
  }
  // Depth is bounded now, so stringify cannot overflow the stack.
  const bytes = Buffer.byteLength(JSON.stringify(value ?? null) ?? 'null', 'utf8');
  if (bytes > limits.maxBytes) return `it is ${bytes} bytes of JSON, more than the ${limits.maxBytes} allowed (an.maxResultBytes)`;
  return undefined;
}

/**
 * The report as the An will store it: unchanged when its result and error can be stored, else a
 * non-retryable failure saying why. The state writer would also split a refused row out of its
 * batch, but only with the store's fixed text, after a failed batch and a retry of each row; this
 * check names the reason and keeps the batch whole. Depth and size the store would accept: only
 * this check bounds them.
 */
export function storableReport(item: ResultItem, limits: ResultLimits): ResultItem {
  const resultProblem = item.ok ? unstorableReason(item.result ?? null, limits) : undefined;
  const errorProblem = item.error ? unstorableReason(item.error, limits) : undefined;
  const problem = resultProblem ? `the result cannot be stored: ${resultProblem}` : errorProblem ? `the error reported by the Ki cannot be stored: ${errorProblem}` : undefined;
  if (!problem) return item;
  return {
    taskId: item.taskId, attempt: item.attempt, startedAtMs: item.startedAtMs, finishedAtMs: item.finishedAtMs,
    ok: false, error: unstorableError(problem), ...(item.trace !== undefined ? { trace: item.trace } : {}),
  };
}

/** The error stored in place of an outcome the store could not hold. */
export function unstorableError(message: string): TaskErrorData {
  return { code: RESULT_UNSTORABLE, message, retryable: false };
}
