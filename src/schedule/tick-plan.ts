import { latestTickAtOrBefore, nextTickAfter, type CronSpec } from './cron';
import type { CatchupPolicy } from './policies';

/** What one pass of the ticker does with a due schedule. */
export interface TickPlan {
  /** The tick to run now; null when every due tick is dropped by the catch-up policy. */
  tickAtMs: number | null;
  /** When the schedule is next due, after the tick run now (or dropped). */
  nextRunAtMs: number;
  /** Due ticks that are not run (missed while no leader ran, or while this one lagged). */
  droppedTicks: boolean;
}

export interface TickPlanInput {
  spec: CronSpec;
  catchup: CatchupPolicy;
  /** The stored next tick: the first one after the last claimed tick. */
  nextRunAtMs: number;
  nowMs: number;
  /** The most a tick may be late and still count as on time for `catchup: none`. */
  maxGraceMs: number;
}

/**
 * Of the ticks due since `nextRunAtMs`, only the latest is ever run: a run stands for "now", and
 * running a backlog of stale ticks would flood the cluster after an outage. With `catchup: none`
 * it runs only while on time, within one tick interval (at most `maxGraceMs`); with `latest` it
 * runs however late. Either way the schedule moves on to the first tick after now.
 */
export function planTick(i: TickPlanInput): TickPlan {
  const latest = latestTickAtOrBefore(i.spec, i.nowMs);
  const nextRunAtMs = nextTickAfter(i.spec, Math.max(i.nowMs, latest));
  if (latest < i.nextRunAtMs) return { tickAtMs: null, nextRunAtMs, droppedTicks: false };
  const droppedTicks = latest > i.nextRunAtMs;
  if (i.catchup === 'latest') return { tickAtMs: latest, nextRunAtMs, droppedTicks };
  const graceMs = Math.min(nextRunAtMs - latest, i.maxGraceMs);
  if (i.nowMs - latest <= graceMs) return { tickAtMs: latest, nextRunAtMs, droppedTicks };
  return { tickAtMs: null, nextRunAtMs, droppedTicks: true };
}
