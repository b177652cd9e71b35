import type { TaskEvent } from '../protocol';

/** Width of one bucket. @defaultValue 5 s */
export const SERIES_BUCKET_MS = 5000;
/** Buckets kept: 15 minutes of 5-s buckets. */
export const SERIES_BUCKETS = 180;
/** How often the gauges are read within a bucket: a backlog of a few seconds shows in its bucket's peak. */
export const SERIES_SAMPLE_MS = 1000;
/** Kis whose GPU figures are kept (by id): a label per Ki must stay bounded. */
export const SERIES_MAX_KIS = 16;
/** Latency samples kept per bucket (a uniform reservoir beyond): percentiles of a burst stay cheap. */
export const SERIES_MAX_SAMPLES = 2048;

type EndStatus = TaskEvent['status'];
const END_STATUSES: readonly EndStatus[] = ['succeeded', 'failed', 'cancelled'];

/** One Ki's GPUs at a sampling: memory summed over its GPUs, utilisation averaged. */
export interface KiGpuSample {
  ki: string;
  memoryUsedMiB: number;
  memoryMiB: number;
  /** Null where no GPU of the Ki reports utilisation. */
  utilizationPct: number | null;
}

/** The gauges a bucket keeps at their peak (free slots: at their low). */
interface Gauges {
  /** Pending messages in the priority-band queues. */
  queueDepth: number;
  /** Tasks waiting in the store, and the oldest one's age (the leader's reading; 0 on a follower). */
  waiting: number;
  oldestWaitingSec: number;
  /** Busy and free slots of the live Kis. */
  running: number;
  freeSlots: number;
}

/** What the principal reads every second and at the end of each bucket (gauges, and counters as running totals). */
export interface SeriesSample extends Gauges {
  /** Tasks this principal admitted since it started (`anki_tasks_submitted_total`). */
  submittedTotal: number;
  /** Messages refused since start, by reason (`anki_messages_rejected_total`). */
  rejectedTotal: Readonly<Record<string, number>>;
  gpus: readonly KiGpuSample[];
}

/** One closed bucket. */
interface Bucket extends Gauges {
  startMs: number;
  submitted: number;
  finished: Record<EndStatus, number>;
  latency: { p50: number | null; p95: number | null; p99: number | null };
  gpus: readonly KiGpuSample[];
  rejected: Record<string, number>;
}

/** The answer of `GET /metrics/series`: one array per figure, aligned with `t`. */
export interface SeriesColumns {
  bucketMs: number;
  /** Start of each bucket, Unix seconds (what a chart's x axis takes). */
  t: number[];
  submittedPerSec: number[];
  finishedPerSec: Record<EndStatus, number[]>;
  latencyMs: { p50: (number | null)[]; p95: (number | null)[]; p99: (number | null)[] };
  queueDepth: number[];
  waiting: number[];
  oldestWaitingSec: number[];
  running: number[];
  freeSlots: number[];
  gpus: { ki: string; memoryUsedMiB: (number | null)[]; memoryMiB: (number | null)[]; utilizationPct: (number | null)[] }[];
  /** Refused messages per second, by reason (only reasons seen in the window). */
  rejectedPerSec: Record<string, number[]>;
}

export interface MetricsSeriesOptions {
  bucketMs?: number;
  buckets?: number;
  maxKis?: number;
  maxSamples?: number;
  /** Injected for tests. @defaultValue Math.random */
  random?: () => number;
}

/** The value at quantile `q` of sorted numbers (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? null;
}

/**
 * The cluster over the last minutes, for the dashboard's charts: a fixed ring of buckets fed by
 * what the principal already sees (task events, its counters and gauges, Ki heartbeats), so a
 * standalone node has charts without Prometheus. Memory is bounded by the bucket count, the Ki
 * cap and the sample cap; the answer is built once per bucket, however many dashboards read it.
 */
export class MetricsSeries {
  readonly bucketMs: number;
  readonly #capacity: number;
  readonly #maxKis: number;
  readonly #maxSamples: number;
  readonly #random: () => number;
  readonly #ring: Bucket[] = [];
  #finished: Record<EndStatus, number> = { succeeded: 0, failed: 0, cancelled: 0 };
  #samples: number[] = [];
  #seen = 0;
  #last: SeriesSample | undefined;
  /** The highest gauges (and fewest free slots) read in the open bucket. */
  #peak: Gauges | undefined;
  #columns: SeriesColumns | undefined;
  #json: string | undefined;

  constructor(options: MetricsSeriesOptions = {}) {
    this.bucketMs = options.bucketMs ?? SERIES_BUCKET_MS;
    this.#capacity = options.buckets ?? SERIES_BUCKETS;
    this.#maxKis = options.maxKis ?? SERIES_MAX_KIS;
    this.#maxSamples = options.maxSamples ?? SERIES_MAX_SAMPLES;
    this.#random = options.random ?? Math.random;
  }

  /** A task ended; `latencyMs` (submit to end) when this principal admitted it. */
  taskFinished(status: EndStatus, latencyMs?: number): void {
    this.#finished[status]++;
    if (latencyMs === undefined || !Number.isFinite(latencyMs) || latencyMs < 0) return;
    this.#seen++;
    if (this.#samples.length < this.#maxSamples) this.#samples.push(latencyMs);
    else {
      // Reservoir sampling: every latency of the bucket has the same chance to be kept.
      const i = Math.floor(this.#random() * this.#seen);
      if (i < this.#maxSamples) this.#samples[i] = latencyMs;
    }
  }

  /**
   * The counters' totals when the ring starts, so the first bucket counts only what happened in
   * it (without it, the first bucket only sets this baseline).
   */
  begin(sample: SeriesSample): void {
    this.#last ??= sample;
  }

  /** A reading within the open bucket: its gauges count towards the bucket's peak. */
  observe(sample: SeriesSample): void {
    const p = this.#peak;
    this.#peak = p
      ? { queueDepth: Math.max(p.queueDepth, sample.queueDepth), waiting: Math.max(p.waiting, sample.waiting), oldestWaitingSec: Math.max(p.oldestWaitingSec, sample.oldestWaitingSec), running: Math.max(p.running, sample.running), freeSlots: Math.min(p.freeSlots, sample.freeSlots) }
      : { queueDepth: sample.queueDepth, waiting: sample.waiting, oldestWaitingSec: sample.oldestWaitingSec, running: sample.running, freeSlots: sample.freeSlots };
  }

  /**
   * Ends the bucket that started at `startMs` with the readings taken now: counters as the change
   * since the previous bucket, gauges as the bucket's peak (free slots: its low), GPUs as now. Without a baseline
   * ({@link begin}), the first call only sets it: totals since start are not one bucket's worth.
   */
  close(startMs: number, sample: SeriesSample): void {
    this.observe(sample);
    const peak = this.#peak!;
    this.#peak = undefined;
    const prev = this.#last;
    this.#last = sample;
    const sorted = this.#samples.sort((a, b) => a - b);
    const bucket: Bucket = {
      startMs,
      submitted: prev ? Math.max(0, sample.submittedTotal - prev.submittedTotal) : 0,
      finished: this.#finished,
      latency: { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), p99: quantile(sorted, 0.99) },
      ...peak,
      gpus: [...sample.gpus].sort((a, b) => a.ki.localeCompare(b.ki, undefined, { numeric: true })).slice(0, this.#maxKis),
      rejected: prev ? deltas(sample.rejectedTotal, prev.rejectedTotal) : {},
    };
    this.#finished = { succeeded: 0, failed: 0, cancelled: 0 };
    this.#samples = [];
    this.#seen = 0;
    this.#ring.push(bucket);
    if (this.#ring.length > this.#capacity) this.#ring.shift();
    this.#columns = undefined;
    this.#json = undefined;
  }

  /** The window as columns, built once per closed bucket. */
  columns(): SeriesColumns {
    return (this.#columns ??= toColumns(this.#ring, this.bucketMs));
  }

  /** {@link columns} as JSON, serialised once per closed bucket. */
  columnsJson(): string {
    return (this.#json ??= JSON.stringify(this.columns()));
  }
}

function deltas(now: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [reason, total] of Object.entries(now)) {
    const d = total - (before[reason] ?? 0);
    if (d > 0) out[reason] = d;
  }
  return out;
}

function toColumns(ring: readonly Bucket[], bucketMs: number): SeriesColumns {
  const perSec = (n: number) => Math.round((n * 1000 / bucketMs) * 1000) / 1000;
  const column = <T>(f: (b: Bucket) => T): T[] => ring.map(f);
  const kis = [...new Set(ring.flatMap((b) => b.gpus.map((g) => g.ki)))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const reasons = [...new Set(ring.flatMap((b) => Object.keys(b.rejected)))].sort();
  return {
    bucketMs,
    t: column((b) => Math.floor(b.startMs / 1000)),
    submittedPerSec: column((b) => perSec(b.submitted)),
    finishedPerSec: Object.fromEntries(END_STATUSES.map((s) => [s, column((b) => perSec(b.finished[s]))])) as Record<EndStatus, number[]>,
    latencyMs: { p50: column((b) => b.latency.p50), p95: column((b) => b.latency.p95), p99: column((b) => b.latency.p99) },
    queueDepth: column((b) => b.queueDepth),
    waiting: column((b) => b.waiting),
    oldestWaitingSec: column((b) => b.oldestWaitingSec),
    running: column((b) => b.running),
    freeSlots: column((b) => b.freeSlots),
    gpus: kis.slice(0, SERIES_MAX_KIS * 2).map((ki) => {
      const of = (b: Bucket) => b.gpus.find((g) => g.ki === ki);
      return {
        ki,
        memoryUsedMiB: column((b) => of(b)?.memoryUsedMiB ?? null),
        memoryMiB: column((b) => of(b)?.memoryMiB ?? null),
        utilizationPct: column((b) => of(b)?.utilizationPct ?? null),
      };
    }),
    rejectedPerSec: Object.fromEntries(reasons.map((r) => [r, column((b) => perSec(b.rejected[r] ?? 0))])),
  };
}
