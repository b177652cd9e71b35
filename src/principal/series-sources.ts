import type { Membership } from '../cluster';
import type { Metrics } from '../observability';
import type { KiGpuSample, SeriesSample } from './metrics-series';

/** The principal's own readings a {@link SeriesSample} is made of. */
export interface SeriesSourceDeps {
  metrics: Pick<Metrics, 'tasksSubmitted' | 'messagesRejected' | 'queueDepth' | 'tasksWaiting' | 'taskOldestWaiting'>;
  membership: Pick<Membership, 'byRole'>;
}

interface MetricValues { values: { value: number; labels: Partial<Record<string, string | number>> }[] }

const sum = (m: MetricValues) => m.values.reduce((n, v) => n + v.value, 0);

/**
 * Reads what the principal already keeps: its counters and gauges (set by admission, the bus, the
 * queue-depth and waiting-task reports) and the live Kis' last heartbeats.
 */
export async function readSeriesSample(d: SeriesSourceDeps): Promise<SeriesSample> {
  const { metrics } = d;
  const [submitted, rejected, depth, waiting, oldest] = await Promise.all([
    metrics.tasksSubmitted.get(), metrics.messagesRejected.get(), metrics.queueDepth.get(), metrics.tasksWaiting.get(), metrics.taskOldestWaiting.get(),
  ]);
  const rejectedTotal: Record<string, number> = {};
  for (const v of rejected.values) {
    const reason = String(v.labels['reason'] ?? 'unknown');
    rejectedTotal[reason] = (rejectedTotal[reason] ?? 0) + v.value;
  }
  const kis = d.membership.byRole('ki').filter((m) => m.status === 'alive' || m.status === 'suspect');
  let running = 0;
  let freeSlots = 0;
  const gpus: KiGpuSample[] = [];
  for (const ki of kis) {
    const { slots, gpus: cards } = ki.heartbeat;
    running += slots.busy;
    freeSlots += Math.max(0, slots.total - slots.busy);
    if (cards.length === 0) continue;
    const utils = cards.flatMap((g) => (g.utilizationPct === undefined ? [] : [g.utilizationPct]));
    gpus.push({
      ki: ki.id,
      memoryUsedMiB: cards.reduce((n, g) => n + g.memoryUsedMiB, 0),
      memoryMiB: cards.reduce((n, g) => n + g.memoryMiB, 0),
      utilizationPct: utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : null,
    });
  }
  return {
    submittedTotal: sum(submitted),
    rejectedTotal,
    queueDepth: depth.values.find((v) => v.labels['queue'] === 'pending')?.value ?? 0,
    waiting: sum(waiting),
    oldestWaitingSec: oldest.values.reduce((n, v) => Math.max(n, v.value), 0),
    running,
    freeSlots,
    gpus,
  };
}
