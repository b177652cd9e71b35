import type { AppConfig } from '../config';
import { every, type Service } from '../lifecycle';
import type { Logger, Metrics } from '../observability';
import { RetentionRepository, StoreStatsRepository, type Database } from '../store';
import type { Leadership } from './leadership';
import { RetentionExporter } from './retention-export';
import { RetentionTicker } from './retention-ticker';
import { TableStatsReporter } from './table-stats-reporter';

export interface LeaderHousekeepingDeps {
  db: Database;
  leadership: Leadership;
  config: Pick<AppConfig, 'retention' | 'storeStats'>;
  metrics: Metrics;
  log: Logger;
}

/**
 * The leader's upkeep of the store, apart from task coordination: retention of old finished tasks,
 * and the table sizes in the metrics.
 * A service of its own beside the principal, so it starts and stops with it but shares none of its
 * state.
 */
export class LeaderHousekeeping implements Service {
  readonly name = 'leader-housekeeping';
  readonly retention: RetentionTicker;
  readonly #tableStats: TableStatsReporter;
  #stopTimers: (() => void)[] = [];

  constructor(private readonly d: LeaderHousekeepingDeps) {
    const r = d.config.retention;
    this.retention = new RetentionTicker({
      retention: new RetentionRepository(d.db), metrics: d.metrics, log: d.log,
      maxAgeMs: r.maxAgeMs, batch: r.batch, maxBatchesPerPass: r.maxBatchesPerPass,
      ...(r.exportDir ? { exporter: new RetentionExporter(r.exportDir) } : {}),
    });
    this.#tableStats = new TableStatsReporter({ stats: new StoreStatsRepository(d.db), metrics: d.metrics });
  }

  start(): Promise<void> {
    const onError = (what: string) => (err: unknown) => this.d.log.warn({ err: (err as Error).message }, `${what} failed; the next pass tries again`);
    if (this.retention.enabled) {
      this.#stopTimers.push(every(this.d.config.retention.intervalMs, async () => {
        const fence = this.d.leadership.fence();
        if (fence) await this.retention.runPass(fence);
      }, onError('retention')));
    }
    this.#stopTimers.push(every(this.d.config.storeStats.tableStatsIntervalMs, () => this.#tableStats.report(this.d.leadership.isLeader()), onError('table sizes')));
    return Promise.resolve();
  }

  stop(): Promise<void> {
    for (const stop of this.#stopTimers.splice(0)) stop();
    return Promise.resolve();
  }
}
