import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { MetricsSeries, quantile, type SeriesSample } from '../../../src/principal/metrics-series';
import { readSeriesSample } from '../../../src/principal/series-sources';
import { createMetrics } from '../../../src/observability';
import type { Member } from '../../../src/cluster';

const sample = (over: Partial<SeriesSample> = {}): SeriesSample => ({
  submittedTotal: 0, rejectedTotal: {}, queueDepth: 0, waiting: 0, oldestWaitingSec: 0, running: 0, freeSlots: 0, gpus: [], ...over,
});

describe('metrics series (the dashboard charts\' ring)', () => {
  it('turns counter totals into per-second rates per bucket, the first bucket only setting the baseline', () => {
    const s = new MetricsSeries({ bucketMs: 2000, buckets: 10 });
    s.close(0, sample({ submittedTotal: 500, rejectedTotal: { schema: 7 } }));
    s.close(2000, sample({ submittedTotal: 520, rejectedTotal: { schema: 11, replay: 2 } }));
    const c = s.columns();
    assert.deepEqual(c.t, [0, 2]);
    assert.deepEqual(c.submittedPerSec, [0, 10]);
    assert.deepEqual(c.rejectedPerSec, { replay: [0, 1], schema: [0, 2] });
  });

  it('counts the first bucket from the baseline taken when the ring began', () => {
    const s = new MetricsSeries({ bucketMs: 1000, buckets: 10 });
    s.begin(sample({ submittedTotal: 100, rejectedTotal: { schema: 1 } }));
    s.close(0, sample({ submittedTotal: 103, rejectedTotal: { schema: 3 } }));
    assert.deepEqual(s.columns().submittedPerSec, [3]);
    assert.deepEqual(s.columns().rejectedPerSec, { schema: [2] });
  });

  it('counts ends by status and takes latency percentiles of the bucket, null where nothing ended', () => {
    const s = new MetricsSeries({ bucketMs: 1000, buckets: 10 });
    for (let i = 1; i <= 100; i++) s.taskFinished('succeeded', i * 10);
    s.taskFinished('failed');
    s.close(0, sample());
    s.close(1000, sample());
    const c = s.columns();
    assert.deepEqual(c.finishedPerSec, { succeeded: [100, 0], failed: [1, 0], cancelled: [0, 0] });
    assert.deepEqual(c.latencyMs, { p50: [500, null], p95: [950, null], p99: [990, null] });
  });

  it('keeps a fixed number of buckets and a bounded sample of latencies, however much comes', () => {
    const s = new MetricsSeries({ bucketMs: 1000, buckets: 3, maxSamples: 8, random: () => 0.99 });
    for (let b = 0; b < 10; b++) {
      for (let i = 0; i < 1000; i++) s.taskFinished('succeeded', b * 1000 + i);
      s.close(b * 1000, sample({ queueDepth: b }));
    }
    const c = s.columns();
    assert.deepEqual(c.t, [7, 8, 9]);
    assert.deepEqual(c.queueDepth, [7, 8, 9]);
    // The reservoir kept the first 8 (random() says skip the rest): the percentiles come from them.
    assert.deepEqual(c.latencyMs.p99, [7007, 8007, 9007]);
  });

  it('shows a bucket\'s gauges at their peak within it (free slots at their low), so a short backlog is not missed', () => {
    const s = new MetricsSeries({ bucketMs: 5000, buckets: 5 });
    s.observe(sample({ queueDepth: 2, waiting: 40, oldestWaitingSec: 3, running: 6, freeSlots: 0 }));
    s.observe(sample({ queueDepth: 9, waiting: 10, oldestWaitingSec: 1, running: 2, freeSlots: 4 }));
    s.close(0, sample({ freeSlots: 6 }));
    s.close(5000, sample({ freeSlots: 6 }));
    const c = s.columns();
    assert.deepEqual([c.queueDepth, c.waiting, c.oldestWaitingSec, c.running, c.freeSlots], [[9, 0], [40, 0], [3, 0], [6, 0], [0, 6]]);
  });

  it('keeps GPU figures of at most maxKis Kis, with gaps where a Ki was absent', () => {
    const s = new MetricsSeries({ bucketMs: 1000, buckets: 5, maxKis: 2 });
    const gpu = (ki: string, used: number) => ({ ki, memoryUsedMiB: used, memoryMiB: 100, utilizationPct: null });
    s.close(0, sample({ gpus: [gpu('ki10', 1), gpu('ki2', 2), gpu('ki1', 3)] }));
    s.close(1000, sample({ gpus: [gpu('ki2', 4)] }));
    const c = s.columns();
    assert.deepEqual(c.gpus.map((g) => [g.ki, g.memoryUsedMiB]), [['ki1', [3, null]], ['ki2', [2, 4]]]);
  });

  it('serialises the answer once per bucket', () => {
    const s = new MetricsSeries({ bucketMs: 1000, buckets: 5 });
    s.close(0, sample());
    const first = s.columnsJson();
    assert.equal(s.columnsJson(), first);
    s.close(1000, sample({ running: 3 }));
    assert.notEqual(s.columnsJson(), first);
    assert.deepEqual(JSON.parse(s.columnsJson()).running, [0, 3]);
  });

  it('nearest-rank quantiles', () => {
    assert.equal(quantile([], 0.5), null);
    assert.equal(quantile([4], 0.99), 4);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
  });

  it('reads the principal\'s counters, gauges and live Kis\' heartbeats', async () => {
    const metrics = createMetrics(new Registry(), 'principal');
    metrics.tasksSubmitted.inc(12);
    metrics.messagesRejected.inc({ reason: 'schema' }, 3);
    metrics.queueDepth.set({ queue: 'pending' }, 40);
    metrics.queueDepth.set({ queue: 'p0' }, 40);
    metrics.tasksWaiting.set({ type: 'a', resource: 'cpu' }, 5);
    metrics.tasksWaiting.set({ type: 'b', resource: 'gpu' }, 6);
    metrics.taskOldestWaiting.set({ type: 'a', resource: 'cpu' }, 9);
    const ki = (id: string, status: Member['status'], busy: number, gpus: { memoryMiB: number; memoryUsedMiB: number; utilizationPct?: number }[]) =>
      ({ id, status, heartbeat: { slots: { total: 4, busy }, gpus } }) as unknown as Member;
    const members = [
      ki('ki1', 'alive', 1, [{ memoryMiB: 100, memoryUsedMiB: 10, utilizationPct: 20 }, { memoryMiB: 100, memoryUsedMiB: 30, utilizationPct: 40 }]),
      ki('ki2', 'alive', 4, []),
      ki('ki3', 'dead', 4, [{ memoryMiB: 100, memoryUsedMiB: 99 }]),
    ];
    const s = await readSeriesSample({ metrics, membership: { byRole: () => members } });
    assert.equal(s.submittedTotal, 12);
    assert.equal(s.rejectedTotal['schema'], 3);
    assert.equal(s.queueDepth, 40);
    assert.equal(s.waiting, 11);
    assert.equal(s.oldestWaitingSec, 9);
    assert.equal(s.running, 5);
    assert.equal(s.freeSlots, 3);
    assert.deepEqual(s.gpus, [{ ki: 'ki1', memoryUsedMiB: 40, memoryMiB: 200, utilizationPct: 30 }]);
  });
});
