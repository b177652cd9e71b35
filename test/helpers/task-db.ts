import pg from 'pg';

/** Counts tasks by status straight from a test run's database. */
export async function statusCounts(databaseUrl: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM tasks GROUP BY status');
    return Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)]));
  } finally {
    await c.end();
  }
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
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    return (await c.query<TaskOutcomeRow>('SELECT id, status, attempts, ki, result FROM tasks')).rows;
  } finally {
    await c.end();
  }
}
