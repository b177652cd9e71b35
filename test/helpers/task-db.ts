import pg from 'pg';
import { retrySerializationFailures } from '../../src/store';

/** Counts tasks by status straight from a test run's database. */
export async function statusCounts(databaseUrl: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    // At SERIALIZABLE (TEST_DB_SERIALIZABLE=1) even this read may be cancelled with 40001.
    const r = await retrySerializationFailures(() => c.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM tasks GROUP BY status'), { maxAttempts: 5 });
    return Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)]));
  } finally {
    await c.end();
  }
}

/** The status of each of `ids` (a missing task is absent from the map). */
export async function statusesOf(databaseUrl: string, ids: readonly string[]): Promise<Map<string, string>> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ id: string; status: string }>('SELECT id::text AS id, status FROM tasks WHERE id = ANY($1::uuid[])', [ids]);
    return new Map(r.rows.map((x) => [x.id, x.status]));
  } finally {
    await c.end();
  }
}
