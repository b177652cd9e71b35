import type { Metrics } from '../observability';
import type { WaitingGroup } from '../store';

/** Series of one gauge at most: task types and models are the callers' strings, and a label per value must stay bounded. */
export const MAX_WAITING_SERIES = 50;
/** Groups read from the store at most; whatever is beyond {@link MAX_WAITING_SERIES} is summed as `(other)`. */
const MAX_GROUPS_READ = 1000;
export const OTHER_TYPES = '(other)';

export interface WaitingReportDeps {
  read: (limit: number) => Promise<WaitingGroup[]>;
  metrics: Pick<Metrics, 'tasksWaiting' | 'taskOldestWaiting'>;
}

/**
 * Sets `anki_tasks_waiting` and `anki_task_oldest_waiting_seconds` from the store: tasks, not
 * broker messages (one pending message carries many tasks, and tasks an An holds back for a free
 * slot are in no queue at all), which is what an autoscaler of Ki pools needs. Only the leader
 * reports, so a sum over principals counts each task once.
 */
export class WaitingReport {
  constructor(private readonly d: WaitingReportDeps) {}

  async report(leading: boolean): Promise<void> {
    const groups = leading ? await this.d.read(MAX_GROUPS_READ) : [];
    const { tasksWaiting, taskOldestWaiting } = this.d.metrics;
    // Reset first: a type whose backlog ended must not keep its last count.
    tasksWaiting.reset();
    taskOldestWaiting.reset();
    for (const g of fold(groups)) {
      const labels = { type: g.type, resource: g.resource, model: g.model };
      tasksWaiting.set(labels, g.count);
      taskOldestWaiting.set(labels, g.oldestSec);
    }
  }
}

/** The largest groups as they are; the rest summed per resource under {@link OTHER_TYPES} (and no model). */
export function fold(groups: readonly WaitingGroup[]): WaitingGroup[] {
  const sorted = [...groups].sort((a, b) => b.count - a.count);
  const kept = sorted.slice(0, MAX_WAITING_SERIES - 2);
  const others = new Map<WaitingGroup['resource'], WaitingGroup>();
  for (const g of sorted.slice(kept.length)) {
    const o = others.get(g.resource) ?? { type: OTHER_TYPES, resource: g.resource, model: '', count: 0, oldestSec: 0 };
    others.set(g.resource, { ...o, count: o.count + g.count, oldestSec: Math.max(o.oldestSec, g.oldestSec) });
  }
  return [...kept, ...others.values()];
}
