/**
 * Wall-clock time in milliseconds with microsecond resolution, comparable with PostgreSQL's
 * `now()` on the same machine. `Date.now()` alone has 1 ms steps, too coarse for a 5 ms p50, so
 * the monotonic clock is anchored on an edge of `Date.now()`: spinning until the millisecond
 * changes puts the anchor within a few microseconds of the true wall time.
 */
export class WallClock {
  readonly #anchorMs: number;
  readonly #anchorNs: bigint;

  constructor() {
    const start = Date.now();
    let ms = start;
    // At most ~1 ms of spinning (bounded twice over in case the clock is stepped meanwhile).
    for (let i = 0; i < 1_000_000 && ms === start; i++) ms = Date.now();
    this.#anchorNs = process.hrtime.bigint();
    this.#anchorMs = ms;
  }

  nowMs(): number {
    return this.#anchorMs + Number(process.hrtime.bigint() - this.#anchorNs) / 1e6;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
