import { badRequest } from './problem';
import type { SubmitTask } from './task-schemas';

/** How far ahead a submission may be scheduled, and the time it is measured from. */
export interface ScheduleBounds {
  /** `tasks.maxDelayMs` (TASK_MAX_DELAY_MS): the latest runAt is now + this. */
  horizonMs: number;
  nowMs: number;
}

/**
 * When a submission is due: its `runAt`, or now + `delayMs`; undefined when it asked for neither
 * (it is queued at once, as always). A time in the past is due at once. A time beyond the horizon
 * is the caller's 400 naming the field (`where` prefixes it for a batch item).
 */
export function scheduleOf(body: Pick<SubmitTask, 'runAt' | 'delayMs'>, bounds: ScheduleBounds, where?: string): Date | undefined {
  const field = body.runAt !== undefined ? 'runAt' : body.delayMs !== undefined ? 'delayMs' : undefined;
  if (!field) return undefined;
  const atMs = body.runAt !== undefined ? Date.parse(body.runAt) : bounds.nowMs + (body.delayMs ?? 0);
  const name = where ? `${where}.${field}` : field;
  if (Number.isNaN(atMs)) throw badRequest(`${name}: not a date-time`, { field: name });
  if (atMs - bounds.nowMs > bounds.horizonMs) {
    throw badRequest(`${name}: more than ${bounds.horizonMs} ms ahead (the horizon)`, { field: name, horizonMs: bounds.horizonMs });
  }
  return new Date(atMs);
}
