import { latestTickAtOrBefore, nextTickAfter, type CronSpec } from './cron';
import type { CatchupPolicy } from './policies';

/** What one pass of the ticker does with a due schedule. */
export interface TickPlan {
  /** The tick to run now; null when the due ticks are dropped by the catch-up policy. */
  tickAtMs: number | null;
  /** The schedule's next unrun tick after this pass (still in the past while a backlog is run). */
  nextRunAtMs: number;
  /** Due ticks that are never run (older than the failover grace, by the catch-up policy). */
  droppedTicks: boolean;
}

export interface TickPlanInput {
  spec: CronSpec;
  catchup: CatchupPolicy;
  /** The stored next tick: the first one after the last claimed tick. */
  nextRunAtMs: number;
  nowMs: number;
  /**
   * How late a tick may be and still run as if on time: longer than a leader failover, so that a
   * failover (or a short database outage) neither skips nor doubles a tick.
   */
  failoverGraceMs: number;
}

/**
 * One tick per pass, oldest first. A tick at most `failoverGraceMs` late runs whatever the policy:
 * it was only held back by a failover. Ticks older than that were missed while no leader ran, and
 * the catch-up policy decides: `none` drops them, `latest` runs the latest of them once. Either
 * way the ticks within the grace then run one by one, so a long outage ends in a short burst at
 * most, never in a flood of stale runs.
 */
export function planTick(i: TickPlanInput): TickPlan {
  const due = i.nextRunAtMs;
  if (due > i.nowMs) return { tickAtMs: null, nextRunAtMs: due, droppedTicks: false };
  const horizonMs = i.nowMs - i.failoverGraceMs;
  if (due >= horizonMs) return { tickAtMs: due, nextRunAtMs: nextTickAfter(i.spec, due), droppedTicks: false };
  const latest = latestTickAtOrBefore(i.spec, i.nowMs);
  // Some ticks fall within the grace: drop the older ones and run the first of those.
  if (latest >= horizonMs) {
    const first = nextTickAfter(i.spec, horizonMs - 1);
    return { tickAtMs: first, nextRunAtMs: nextTickAfter(i.spec, first), droppedTicks: true };
  }
  const nextRunAtMs = nextTickAfter(i.spec, i.nowMs);
  if (i.catchup === 'latest') return { tickAtMs: latest, nextRunAtMs, droppedTicks: latest > due };
  return { tickAtMs: null, nextRunAtMs, droppedTicks: true };
}
