/**
 * A task's `ctx.progress`: clamps the fraction to [0, 1] (anything not a finite number counts as
 * 0) and passes on at most one report per `minIntervalMs`, except a report of completion, which
 * always goes: a handler reporting per token must not flood its An.
 */
export function throttledProgress(minIntervalMs: number, send: (fraction: number, message?: string) => void, now: () => number = Date.now): (fraction: number, message?: string) => void {
  let lastMs = Number.NEGATIVE_INFINITY;
  return (fraction, message) => {
    const at = now();
    if (at - lastMs < minIntervalMs && fraction < 1) return;
    lastMs = at;
    send(Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0)), message === undefined ? undefined : String(message).slice(0, 1024));
  };
}
