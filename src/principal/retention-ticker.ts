import type { Logger, Metrics } from '../observability';
import type { LeaderFence, RetentionRepository, TaskRecord } from '../store';

/** What a retention pass deleted. */
export interface RetentionPassResult {
  tasks: number;
  idempotencyKeys: number;
}

export interface RetentionTickerDeps {
  retention: Pick<RetentionRepository, 'expiredTaskIds' | 'expiredTasks' | 'deleteExpiredTasks' | 'deleteExpiredKeys'>;
  /** Appends a batch to the export and flushes it to disk, before the batch is deleted; absent: no export. */
  exporter?: { append(tasks: readonly TaskRecord[]): Promise<unknown> };
  metrics: Pick<Metrics, 'retentionDeleted'>;
  log: Logger;
  /** Age past which finished tasks and idempotency keys go; 0 keeps them forever. */
  maxAgeMs: number;
  batch: number;
  maxBatchesPerPass: number;
}

/**
 * The leader's retention: each pass deletes, in batches of `batch`, finished tasks older than the
 * age (and, when exporting, appends each batch to the export first) and then old idempotency
 * keys. Every delete is fenced by the leader's term, so a deposed leader deletes nothing; a pass
 * stops at the first batch that is not full, or after `maxBatchesPerPass`, so one pass never holds
 * the database for long and a backlog (the first pass after enabling it) drains over several.
 */
export class RetentionTicker {
  constructor(private readonly d: RetentionTickerDeps) {}

  get enabled(): boolean {
    return this.d.maxAgeMs > 0;
  }

  async runPass(fence: LeaderFence): Promise<RetentionPassResult> {
    if (!this.enabled) return { tasks: 0, idempotencyKeys: 0 };
    const tasks = await this.#deleteTasks(fence);
    const idempotencyKeys = await this.#deleteKeys(fence);
    if (tasks + idempotencyKeys > 0) this.d.log.info({ tasks, idempotencyKeys, maxAgeMs: this.d.maxAgeMs }, 'retention deleted old finished tasks');
    return { tasks, idempotencyKeys };
  }

  async #deleteTasks(fence: LeaderFence): Promise<number> {
    const { retention, exporter, maxAgeMs, batch } = this.d;
    let total = 0;
    for (let i = 0; i < this.d.maxBatchesPerPass; i++) {
      let ids: string[];
      if (exporter) {
        const rows = await retention.expiredTasks(maxAgeMs, batch);
        if (rows.length > 0) await exporter.append(rows);
        ids = rows.map((t) => t.id);
      } else {
        ids = await retention.expiredTaskIds(maxAgeMs, batch);
      }
      if (ids.length === 0) break;
      const deleted = await retention.deleteExpiredTasks(ids, maxAgeMs, fence);
      total += deleted.length;
      this.d.metrics.retentionDeleted.inc({ kind: 'task' }, deleted.length);
      // None deleted: the lease is lost (or every row changed); the next leader's pass goes on.
      if (deleted.length === 0 || ids.length < batch) break;
    }
    return total;
  }

  async #deleteKeys(fence: LeaderFence): Promise<number> {
    let total = 0;
    for (let i = 0; i < this.d.maxBatchesPerPass; i++) {
      const n = await this.d.retention.deleteExpiredKeys(this.d.maxAgeMs, this.d.batch, fence);
      total += n;
      this.d.metrics.retentionDeleted.inc({ kind: 'idempotency_key' }, n);
      if (n < this.d.batch) break;
    }
    return total;
  }
}
