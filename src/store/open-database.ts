import type { AppConfig } from '../config';
import type { Logger } from '../observability';
import { PgDatabase, type Database } from './db';
import { ensureDatabase } from './ensure-database';
import { migrate } from './migrate';
import { PgliteDatabase } from './pglite-database';

/** The configured database: a PostgreSQL-wire server (DATABASE_URL) or, without one, embedded PGlite. */
export function openDatabase(config: AppConfig, log: Logger, name: string): Database {
  if (!config.db.url) {
    log.info({ dataDir: config.db.dataDir }, 'no DATABASE_URL: embedded PGlite database');
    return new PgliteDatabase({ dataDir: config.db.dataDir, maxTxAttempts: config.db.maxTxAttempts });
  }
  const c = config.db;
  return new PgDatabase({
    url: c.url, poolSize: c.poolSize, statementTimeoutMs: c.statementTimeoutMs, connectTimeoutMs: c.connectTimeoutMs, queryTimeoutMs: c.queryTimeoutMs,
    idleInTransactionTimeoutMs: c.idleInTransactionTimeoutMs, keepAliveMs: c.keepAliveMs, maxTxAttempts: c.maxTxAttempts, applicationName: `anki-${name}-${config.nodeId}`,
    onError: (err) => log.warn({ err: err.message }, 'idle database connection failed'),
  });
}

/**
 * Whether a failure to open the store may pass with time: the server is not reachable (refused,
 * unresolvable, timed out, connection dropped) or not accepting connections yet (SQLSTATE class
 * 08, 57P01-57P03 starting or shutting down, 53300 too many connections). A refused password or a
 * failed migration is not: waiting would only hide it.
 */
export function isStoreUnreachable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') return /^E[A-Z_]+$/.test(code) || /^08/.test(code) || /^57P0[123]$/.test(code) || code === '53300';
  return typeof message === 'string' && /connect|terminat|timeout|timed out/i.test(message);
}

/** Where the database server is, for log lines: host and port, never the credentials. */
export function databaseTarget(url: string): string {
  try {
    return new URL(url).host || 'localhost';
  } catch {
    return 'an unparsable DATABASE_URL';
  }
}

/**
 * Creates the database if the server lacks it, opens it and applies pending migrations (their
 * versions in `applied`); closes it again when a migration fails. `name` labels the connections
 * (`application_name`).
 */
export async function openMigratedDatabase(config: AppConfig, log: Logger, name: string): Promise<{ db: Database; applied: number[] }> {
  if (config.db.url && (await ensureDatabase(config.db.url, config.db.connectTimeoutMs))) log.info('database created');
  const db = openDatabase(config, log, name);
  try {
    return { db, applied: await migrate(db, config.nodeId) };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
