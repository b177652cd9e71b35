import type { Metrics } from '../observability';
import type { StoreStatsRepository } from '../store';

/**
 * Table sizes into `anki_store_table_rows` and `anki_store_table_bytes`. Only the leader reports:
 * every principal reads the same database, and one series per table keeps a sum over principals
 * honest; the others clear theirs (a former leader must not keep showing old sizes).
 */
export class TableStatsReporter {
  constructor(private readonly d: { stats: Pick<StoreStatsRepository, 'tableStats'>; metrics: Pick<Metrics, 'storeTableRows' | 'storeTableBytes'> }) {}

  async report(isLeader: boolean): Promise<void> {
    const { storeTableRows, storeTableBytes } = this.d.metrics;
    if (!isLeader) {
      storeTableRows.reset();
      storeTableBytes.reset();
      return;
    }
    const tables = await this.d.stats.tableStats();
    // Reset after the read: a failed read keeps the last sizes rather than blanking the panel.
    storeTableRows.reset();
    storeTableBytes.reset();
    for (const t of tables) {
      if (t.rows !== null) storeTableRows.set({ table: t.table }, t.rows);
      if (t.bytes !== null) storeTableBytes.set({ table: t.table }, t.bytes);
    }
  }
}
