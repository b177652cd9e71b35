import type { AppConfig } from '../config';
import { ConfigError } from '../errors';
import type { Logger } from '../observability';
import { PgDatabase, type Database } from './db';
import { ensureDatabase } from './ensure-database';
import { migrate } from './migrate';
import type * as PgliteModule from './pglite-database';
import type { RetriedSqlState } from './serialization-retry';

/**
 * The embedded store, loaded only when used: PGlite is tens of megabytes that a node with a
 * DATABASE_URL never needs, and the role images leave it out (it is an optional dependency).
 */
function loadPglite(): typeof PgliteModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('./pglite-database') as typeof PgliteModule;
  } catch (err) {
    if ((err as { code?: string }).code === 'MODULE_NOT_FOUND' && /@electric-sql\/pglite/.test((err as Error).message)) {
      throw new ConfigError('DATABASE_URL is not set and the embedded database (@electric-sql/pglite) is not installed here: set DATABASE_URL, or install the optional dependency');
    }
    throw err;
  }
}

/** Hears each statement or transaction the database asked to run again (for `anki_db_retries_total{code}`). */
export type OnDbRetry = (code: RetriedSqlState) => void;

/** The configured database: a PostgreSQL-wire server (DATABASE_URL) or, without one, embedded PGlite. */
export function openDatabase(config: AppConfig, log: Logger, name: string, onRetry?: OnDbRetry): Database {
  const retried = (code: RetriedSqlState) => {
    log.debug({ code }, 'the database asked for a retry');
    onRetry?.(code);
  };
  if (!config.db.url) {
    log.info({ dataDir: config.db.dataDir }, 'no DATABASE_URL: embedded PGlite database');
    return new (loadPglite().PgliteDatabase)({ dataDir: config.db.dataDir, maxTxAttempts: config.db.maxTxAttempts, onRetry: retried });
  }
  const c = config.db;
  return new PgDatabase({
    url: c.url, poolSize: c.poolSize, statementTimeoutMs: c.statementTimeoutMs, connectTimeoutMs: c.connectTimeoutMs, queryTimeoutMs: c.queryTimeoutMs,
    idleInTransactionTimeoutMs: c.idleInTransactionTimeoutMs, keepAliveMs: c.keepAliveMs, maxTxAttempts: c.maxTxAttempts, applicationName: `anki-${name}-${config.nodeId}`,
    onError: (err) => log.warn({ err: err.message }, 'idle database connection failed'),
    onRetry: retried,
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
 * (`application_name`); `onRetry` hears every retry the database asked for.
 */
export async function openMigratedDatabase(config: AppConfig, log: Logger, name: string, onRetry?: OnDbRetry): Promise<{ db: Database; applied: number[] }> {
  if (config.db.url && (await ensureDatabase(config.db.url, config.db.connectTimeoutMs, { maxAttempts: config.db.maxTxAttempts, onRetry }))) log.info('database created');
  const db = openDatabase(config, log, name, onRetry);
  try {
    return { db, applied: await migrate(db, config.nodeId) };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
