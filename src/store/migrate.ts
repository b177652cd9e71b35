import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from './db';
import { MIGRATIONS, type Migration } from './migrations';

const LOCK_MS = 60_000;

/**
 * Applies pending migrations under a lock row taken by compare-and-set (no advisory locks: they do
 * not exist on CockroachDB). Concurrent starters wait for the holder, then find nothing to do.
 */
export async function migrate(db: Database, holder: string, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await createBookkeeping(db);
  const deadline = Date.now() + LOCK_MS;
  while (!(await takeLock(db, holder))) {
    if (Date.now() > deadline) throw new Error('migration lock held by another node for too long');
    await sleep(200);
  }
  try {
    const done = new Set((await db.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await db.transaction(async (q) => {
        for (const s of m.statements) await q.query(s);
        await q.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1::int8, $2::text, now())', [m.version, m.name]);
      });
      applied.push(m.version);
    }
    return applied;
  } finally {
    await db.query('DELETE FROM schema_lock WHERE name = $1 AND holder = $2', ['migrations', holder]);
  }
}

async function createBookkeeping(db: Database): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.query('CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)');
      await db.query('CREATE TABLE IF NOT EXISTS schema_lock (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)');
      return;
    } catch (err) {
      // Two nodes creating the same table at once: PostgreSQL reports a unique violation on its catalog.
      // (40001 and 40P01 are retried by the database's query layer already.)
      const code = (err as { code?: string }).code;
      if (attempt >= 5 || (code !== '23505' && code !== '42P07')) throw err;
      await sleep(50 * attempt);
    }
  }
}

async function takeLock(db: Database, holder: string): Promise<boolean> {
  const r = await db.query(
    `INSERT INTO schema_lock (name, holder, expires_at) VALUES ('migrations', $1::text, now() + $2::int8 * interval '1 millisecond')
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE schema_lock.holder = excluded.holder OR schema_lock.expires_at < now()
     RETURNING holder`,
    [holder, LOCK_MS],
  );
  return r.rowCount === 1;
}
