import { migrate, PgDatabase } from '../../src/store';
import type { Isolation } from './isolation';

/** A pool on a test run's own database, migrated to the current schema unless `migrated` is false (a node migrates it). */
export async function openTestDatabase(iso: Isolation, options: { migrated?: boolean; poolSize?: number } = {}): Promise<PgDatabase> {
  const db = new PgDatabase({ url: iso.databaseUrl, poolSize: options.poolSize ?? 4, statementTimeoutMs: 5000, connectTimeoutMs: 2000, maxTxAttempts: 5, applicationName: 'test' });
  if (options.migrated ?? true) await migrate(db, 'test');
  return db;
}
