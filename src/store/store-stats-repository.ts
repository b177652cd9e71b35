import type { Queryable } from './db';
import { TASK_STATUSES, type TaskStatus } from '../task';

/** One table's size as the catalog knows it; null where this database cannot tell. */
export interface TableStats {
  table: string;
  /** The planner's row estimate (not a count): fresh after ANALYZE or autovacuum. */
  rows: number | null;
  /** Bytes on disk, indexes and TOAST included. */
  bytes: number | null;
}

/** Task counts by status, each counted up to a cap. */
export interface CappedCounts {
  counts: Partial<Record<TaskStatus, number>>;
  /** Statuses with at least `cap` tasks: their count is the cap, not the total. */
  capped: TaskStatus[];
}

/**
 * One bounded count per status in one statement: each reads at most `cap` entries of the
 * (status, created_at, id) index, so the cost stays flat however many finished tasks pile up,
 * where `GROUP BY status` read the whole table. PostgreSQL and CockroachDB alike.
 */
const CAPPED_COUNTS_SQL = TASK_STATUSES.map(
  (s) => `SELECT '${s}' AS status, (SELECT count(*) FROM (SELECT 1 FROM tasks WHERE status = '${s}' LIMIT $1::int8) AS c) AS n`,
).join(' UNION ALL ');

/** Every ordinary table of the current schema with its estimated rows and total bytes (PostgreSQL). */
const PG_TABLE_STATS_SQL = `SELECT c.relname AS table_name, c.reltuples::float8 AS row_estimate, pg_total_relation_size(c.oid)::int8 AS total_bytes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'`;

/** CockroachDB has no pg_total_relation_size and leaves reltuples at 0; its own statistics give rows only. */
const CRDB_TABLE_STATS_SQL = 'SELECT table_name, estimated_row_count::float8 AS row_estimate, NULL::int8 AS total_bytes FROM crdb_internal.table_row_statistics';

/** Reads about the store itself: bounded task counts for /cluster and table sizes for the metrics. */
export class StoreStatsRepository {
  constructor(private readonly db: Queryable) {}

  async countTasksUpTo(cap: number): Promise<CappedCounts> {
    const r = await this.db.query<{ status: TaskStatus; n: number | string }>(CAPPED_COUNTS_SQL, [cap]);
    const counts: Partial<Record<TaskStatus, number>> = {};
    const capped: TaskStatus[] = [];
    for (const row of r.rows) {
      const n = Number(row.n);
      if (n > 0) counts[row.status] = n;
      if (n >= cap) capped.push(row.status);
    }
    return { counts, capped };
  }

  /** Table sizes from PostgreSQL's catalog, else row estimates from CockroachDB's; throws if neither answers. */
  async tableStats(): Promise<TableStats[]> {
    type Row = { table_name: string; row_estimate: number | null; total_bytes: number | string | null };
    let rows: Row[];
    try {
      rows = (await this.db.query<Row>(PG_TABLE_STATS_SQL)).rows;
    } catch (pgErr) {
      try {
        rows = (await this.db.query<Row>(CRDB_TABLE_STATS_SQL)).rows;
      } catch {
        throw pgErr;
      }
    }
    // reltuples is -1 for a table never analyzed: unknown, not empty.
    return rows.map((r) => ({
      table: r.table_name,
      rows: r.row_estimate === null || Number(r.row_estimate) < 0 ? null : Math.round(Number(r.row_estimate)),
      bytes: r.total_bytes === null ? null : Number(r.total_bytes),
    }));
  }
}
