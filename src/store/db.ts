import type { Client, Pool } from 'pg';
import { pg } from './pg-driver';
import { retrySerializationFailures, type RetriedSqlState, type SerializationRetryOptions } from './serialization-retry';

/** Rows and count of a statement. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Anything that runs SQL: a pool, a checked-out client, an embedded database. */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/**
 * The database a node uses: plain statements and transactions, each run again when the database
 * asks for a retry (40001, 40P01; see {@link retrySerializationFailures}), and a close.
 */
export interface Database extends Queryable {
  /** Runs `fn` in one transaction on one connection, running all of it again on 40001 or 40P01. */
  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * Rejects unless the server answers `SELECT 1` within `timeoutMs`. Only a database server has
   * one: an embedded database cannot go away on its own and is not probed.
   */
  ping?(timeoutMs: number): Promise<void>;
}

export interface PgDatabaseOptions {
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  /** Tries of a statement or transaction the database asks to retry (40001, 40P01), the first included. */
  maxTxAttempts: number;
  applicationName: string;
  onError?: (err: Error) => void;
  /** Hears each retry (for `anki_db_retries_total{code}`). */
  onRetry?: (code: RetriedSqlState) => void;
}

// BIGINT (int8) and NUMERIC come back as strings by default; every BIGINT here is a count or a
// millisecond figure far below 2^53, so numbers are the honest type.
pg.types.setTypeParser(20, (v: string) => Number(v));

/**
 * Runs `fn` in a transaction on one client from `connect`; on 40001/40P01 the whole transaction
 * runs again on a fresh client (see {@link retrySerializationFailures}). Exported separately so
 * the retry path can be tested by injecting those errors.
 */
export function runTransaction<T, C extends Queryable & { release(err?: boolean | Error): void }>(
  connect: () => Promise<C>, fn: (q: Queryable) => Promise<T>, retry: SerializationRetryOptions,
): Promise<T> {
  return retrySerializationFailures(async () => {
    const client = await connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => { broken = e; });
      throw err;
    } finally {
      client.release(broken);
    }
  }, retry);
}

/** PostgreSQL or CockroachDB through a pg pool. */
export class PgDatabase implements Database {
  readonly pool: Pool;
  /** The readiness ping's own connection: through the pool, a pool busy with writes would read as an outage. */
  #pingClient?: Client;
  readonly #retry: SerializationRetryOptions;
  constructor(private readonly o: PgDatabaseOptions) {
    this.#retry = { maxAttempts: o.maxTxAttempts, onRetry: o.onRetry };
    this.pool = new pg.Pool({
      connectionString: o.url,
      max: o.poolSize,
      connectionTimeoutMillis: o.connectTimeoutMs,
      statement_timeout: o.statementTimeoutMs,
      query_timeout: o.statementTimeoutMs + 1000,
      idleTimeoutMillis: 30_000,
      application_name: o.applicationName,
    });
    // Errors on idle clients are emitted by the pool; unhandled they would crash the process.
    this.pool.on('error', (err) => o.onError?.(err));
  }

  /** One statement in its own implicit transaction; run again when the database asks (40001, 40P01). */
  query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    return retrySerializationFailures(async () => {
      const r = await this.pool.query(text, params as unknown[]);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    }, this.#retry);
  }

  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return runTransaction(async () => {
      const c = await this.pool.connect();
      return {
        query: async <R>(text: string, params: readonly unknown[] = []) => {
          const r = await c.query(text, params as unknown[]);
          return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
        },
        release: (err?: boolean | Error) => c.release(err),
      };
    }, fn, this.#retry);
  }

  async ping(timeoutMs: number): Promise<void> {
    try {
      if (!this.#pingClient) {
        const client = new pg.Client({
          connectionString: this.o.url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, application_name: `${this.o.applicationName}-ping`,
        });
        client.on('error', () => { if (this.#pingClient === client) this.#pingClient = undefined; });
        this.#pingClient = client;
        await client.connect();
      }
      await this.#pingClient.query('SELECT 1');
    } catch (err) {
      this.#dropPingClient();
      throw err;
    }
  }

  #dropPingClient(): void {
    const client = this.#pingClient;
    this.#pingClient = undefined;
    // Not awaited: on a half-open connection the goodbye never completes.
    client?.end().catch(() => undefined);
  }

  close(): Promise<void> {
    this.#dropPingClient();
    return this.pool.end();
  }
}
