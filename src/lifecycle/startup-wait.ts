import { setTimeout as sleep } from 'node:timers/promises';
import { PlatformError } from '../errors';
import type { Logger } from '../observability';
import { nextDelayMs, type RetryPolicy } from '../task';

/** A dependency (the database) was still unreachable when the start-up deadline passed. */
export class StartupTimeoutError extends PlatformError {
  override readonly code = 'STARTUP_TIMEOUT';
}

/** Waits between tries: 250 ms doubling to 5 s, 30 % jitter (many nodes starting at once do not retry in step). */
export const STARTUP_RETRY: RetryPolicy = { maxAttempts: Number.MAX_SAFE_INTEGER, initialMs: 250, factor: 2, maxMs: 5000, jitter: 0.3 };

export interface StartupWaitOptions {
  /** What is waited for, as a log line names it ("database"). */
  what: string;
  /** Where it is (host:port, never credentials), named in every line. */
  target: string;
  /** Gives up after this long (ms since the first try). */
  deadlineMs: number;
  log: Logger;
  /** Whether a failure may pass with time (unreachable, starting up); any other is thrown at once. */
  isTransient: (err: unknown) => boolean;
  policy?: RetryPolicy;
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Runs `attempt` until it succeeds. A transient failure is logged as one line (no stack: in a
 * container log a dependency that is not up yet is expected, not a crash) and tried again after
 * a backoff; past the deadline a {@link StartupTimeoutError} whose one-line message names the
 * target and the last error.
 */
export async function waitForDependency<T>(attempt: () => Promise<T>, o: StartupWaitOptions): Promise<T> {
  const now = o.now ?? Date.now;
  const wait = o.sleep ?? sleep;
  const started = now();
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!o.isTransient(err)) throw err;
      const message = errorLine(err);
      const left = started + o.deadlineMs - now();
      if (left <= 0) {
        throw new StartupTimeoutError(`${o.what} at ${o.target} not reachable within ${o.deadlineMs} ms (${n} attempts, last error: ${message}); giving up`, { cause: err });
      }
      const delayMs = Math.min(left, nextDelayMs(o.policy ?? STARTUP_RETRY, n));
      o.log.warn({ attempt: n, retryInMs: delayMs, target: o.target, err: message }, `${o.what} not reachable yet; retrying`);
      await wait(delayMs);
    }
  }
}

function errorLine(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown } | undefined;
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  return message.split('\n')[0]!;
}
