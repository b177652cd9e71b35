import pg from 'pg';
import { retrySerializationFailures } from '../../src/store';

/**
 * Runs one read on a connection of its own to a test run's database. At SERIALIZABLE
 * (TEST_DB_SERIALIZABLE=1) even a read may be cancelled with 40001, so it is retried.
 */
async function readOnce<T extends pg.QueryResultRow>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    return (await retrySerializationFailures(() => c.query<T>(sql, params), { maxAttempts: 5 })).rows;
  } finally {
    await c.end();
  }
}

/** Counts tasks by status straight from a test run's database. */
export async function statusCounts(databaseUrl: string): Promise<Record<string, number>> {
  const rows = await readOnce<{ status: string; n: string }>(databaseUrl, 'SELECT status, count(*) AS n FROM tasks GROUP BY status');
  return Object.fromEntries(rows.map((x) => [x.status, Number(x.n)]));
}

/** The status of each of `ids` (a missing task is absent from the map). */
export async function statusesOf(databaseUrl: string, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await readOnce<{ id: string; status: string }>(databaseUrl, 'SELECT id::text AS id, status FROM tasks WHERE id = ANY($1::uuid[])', [ids]);
  return new Map(rows.map((x) => [x.id, x.status]));
}

/** One task as the liveness checks read it. */
export interface TaskOutcomeRow {
  id: string;
  status: string;
  attempts: number;
  ki: string | null;
  result: unknown;
}

/** Every task's status, attempts, last Ki and result, straight from a test run's database. */
export async function taskOutcomes(databaseUrl: string): Promise<TaskOutcomeRow[]> {
  return readOnce<TaskOutcomeRow>(databaseUrl, 'SELECT id, status, attempts, ki, result FROM tasks');
}
