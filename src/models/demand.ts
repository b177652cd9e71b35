/** What the store measured of one model over the last window. */
export interface DemandInput {
  /** Tasks naming it submitted within the window. */
  arrived: number;
  /** Tasks naming it waiting for a Ki now. */
  waiting: number;
  /** How long the oldest of them has waited; 0 when none waits. */
  oldestWaitMs: number;
}

/**
 * A model's demand in requests per second: its arrival rate over the window, plus its backlog
 * spread over `horizonMs` (a queue that built up must drain, not only keep level), weighed up
 * as its oldest task waits longer than the horizon, so a starved model is not held at a low share.
 */
export function demandOf(d: DemandInput, windowMs: number, horizonMs: number): number {
  const rate = windowMs > 0 ? d.arrived / (windowMs / 1000) : 0;
  const backlog = horizonMs > 0 ? d.waiting / (horizonMs / 1000) : 0;
  const starving = horizonMs > 0 ? Math.max(1, d.oldestWaitMs / horizonMs) : 1;
  return rate + backlog * starving;
}
