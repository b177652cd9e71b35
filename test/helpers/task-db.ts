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
