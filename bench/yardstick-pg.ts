import { randomUUID } from 'node:crypto';
import pg from 'pg';

export interface PgYardstick {
  mode: 'one-row' | 'multi-row';
  rowsPerStatement: number;
  rows: number;
  elapsedMs: number;
  rowsPerSec: number;
}

const TABLE = 'bench_scratch';

/**
 * The store's own limit, on one connection into a scratch table of the isolation's database:
 * one-row INSERTs each committed on its own (what a design without batching pays per state
 * change), and 500-row INSERTs per statement (what group commit can reach).
 */
export async function runPgYardsticks(databaseUrl: string, plan: { oneRowRows: number; multiRows: number; rowsPerStatement?: number; timeoutMs: number }, signal: AbortSignal): Promise<PgYardstick[]> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'an-ki-bench-yardstick' });
  await client.connect();
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (id UUID PRIMARY KEY, n BIGINT NOT NULL, payload TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)`);
    const payload = 'x'.repeat(64);
    const out: PgYardstick[] = [];

    const deadline = Date.now() + plan.timeoutMs;
    let rows = 0;
    let start = performance.now();
    for (; rows < plan.oneRowRows && !signal.aborted && Date.now() < deadline; rows++) {
      await client.query(`INSERT INTO ${TABLE} (id, n, payload, created_at) VALUES ($1, $2, $3, now())`, [randomUUID(), rows, payload]);
    }
    let elapsedMs = performance.now() - start;
    out.push({ mode: 'one-row', rowsPerStatement: 1, rows, elapsedMs, rowsPerSec: (rows / elapsedMs) * 1000 });

    const per = plan.rowsPerStatement ?? 500;
    const placeholders = Array.from({ length: per }, (_, i) => `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3}, now())`).join(', ');
    const sql = `INSERT INTO ${TABLE} (id, n, payload, created_at) VALUES ${placeholders}`;
    const multiDeadline = Date.now() + plan.timeoutMs;
    rows = 0;
    start = performance.now();
    while (rows + per <= plan.multiRows && !signal.aborted && Date.now() < multiDeadline) {
      const params: unknown[] = [];
      for (let i = 0; i < per; i++) params.push(randomUUID(), rows + i, payload);
      await client.query(sql, params);
      rows += per;
    }
    elapsedMs = performance.now() - start;
    out.push({ mode: 'multi-row', rowsPerStatement: per, rows, elapsedMs, rowsPerSec: (rows / elapsedMs) * 1000 });
    return out;
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
