// What each chart draws from the answer of GET /metrics/series: its series (name, colour, column)
// and how a value reads.

import { duration, mib } from './format.js';

// Colours that stay apart in light and dark, and for the common kinds of colour blindness.
export const PALETTE = ['#1f77b4', '#2ca02c', '#d62728', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];

const rate = (v) => `${v >= 10 ? Math.round(v) : Number(v.toFixed(2))}/s`;
const count = (v) => String(Math.round(v));
const ms = (v) => duration(v);
const pct = (v) => `${Math.round(v)}%`;
const seconds = (v) => duration(v * 1000);

/**
 * Each chart: `id`, `title`, `format` (a value as text), `dots` (mark every value, for series with
 * gaps), and `series(s)`: the lines to draw from the answer `s`, each `{ label, values, color, axis? }`
 * (axis 'right' for a second unit).
 */
export const CHARTS = [
  {
    id: 'throughput', title: 'Tasks per second', format: rate,
    series: (s) => [
      { label: 'submitted', values: s.submittedPerSec, color: PALETTE[0] },
      { label: 'succeeded', values: s.finishedPerSec.succeeded, color: PALETTE[1] },
      { label: 'failed', values: s.finishedPerSec.failed, color: PALETTE[2] },
      { label: 'cancelled', values: s.finishedPerSec.cancelled, color: PALETTE[8] },
    ],
  },
  {
    // A bucket in which nothing ended is a gap: a lone bucket between gaps shows as a dot.
    id: 'latency', title: 'Latency, submit to end', format: ms, dots: true,
    series: (s) => [
      { label: 'p50', values: s.latencyMs.p50, color: PALETTE[0] },
      { label: 'p95', values: s.latencyMs.p95, color: PALETTE[4] },
      { label: 'p99', values: s.latencyMs.p99, color: PALETTE[2] },
    ],
  },
  {
    id: 'queue', title: 'Queue', format: count, rightFormat: seconds,
    series: (s) => [
      { label: 'pending messages', values: s.queueDepth, color: PALETTE[0] },
      { label: 'waiting tasks', values: s.waiting, color: PALETTE[3] },
      { label: 'oldest waiting', values: s.oldestWaitingSec, color: PALETTE[4], axis: 'right' },
    ],
  },
  {
    id: 'slots', title: 'Running tasks and free slots', format: count,
    series: (s) => [
      { label: 'running', values: s.running, color: PALETTE[0] },
      { label: 'free slots', values: s.freeSlots, color: PALETTE[1] },
    ],
  },
  {
    id: 'gpu-memory', title: 'GPU memory used per Ki', format: mib,
    series: (s) => s.gpus.map((g, i) => ({ label: g.ki, values: g.memoryUsedMiB, color: PALETTE[i % PALETTE.length] })),
    empty: 'No Ki with GPUs in the last 15 minutes.',
  },
  {
    id: 'gpu-util', title: 'GPU utilisation per Ki', format: pct,
    series: (s) => s.gpus.filter((g) => g.utilizationPct.some((v) => v !== null)).map((g, i) => ({ label: g.ki, values: g.utilizationPct, color: PALETTE[i % PALETTE.length] })),
    empty: 'No Ki reported GPU utilisation in the last 15 minutes.',
  },
  {
    id: 'rejected', title: 'Refused messages per second', format: rate,
    series: (s) => Object.entries(s.rejectedPerSec).map(([reason, values], i) => ({ label: reason, values, color: PALETTE[(i + 2) % PALETTE.length] })),
    empty: 'No message was refused in the last 15 minutes.',
  },
];

/** The newest value of a column that is not a gap. */
export function lastValue(values) {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i];
  return null;
}
