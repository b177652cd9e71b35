/** The accounting periods of GPU-seconds (TENANT_GPU_PERIOD), in UTC. */
export type GpuPeriod = 'day' | 'week' | 'month';

/** Where the period holding `nowMs` starts and ends (UTC midnight; a week starts on Monday). */
export function periodAround(kind: GpuPeriod, nowMs: number): { start: Date; end: Date } {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear(), m = d.getUTCMonth(), day = d.getUTCDate();
  if (kind === 'month') return { start: new Date(Date.UTC(y, m, 1)), end: new Date(Date.UTC(y, m + 1, 1)) };
  if (kind === 'day') return { start: new Date(Date.UTC(y, m, day)), end: new Date(Date.UTC(y, m, day + 1)) };
  const sinceMonday = (d.getUTCDay() + 6) % 7;
  return { start: new Date(Date.UTC(y, m, day - sinceMonday)), end: new Date(Date.UTC(y, m, day - sinceMonday + 7)) };
}
