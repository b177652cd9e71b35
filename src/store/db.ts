import type { Client, Pool, PoolConfig } from 'pg';
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
  /** The server cancels a statement running longer (`statement_timeout`); 0: never. */
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  /** Tries of a statement or transaction the database asks to retry (40001, 40P01), the first included. */
  maxTxAttempts: number;
  applicationName: string;
  /**
   * How long the client waits for the server's answer to a query before it gives up on the
   * connection: on a half-open one the answer never comes. 0 or absent: `statementTimeoutMs` + 1 s
   * (none if that is 0 too).
   */
  queryTimeoutMs?: number;
  /**
   * The server ends a session whose transaction sat idle this long
   * (`idle_in_transaction_session_timeout`): a client cut off mid-transaction would otherwise keep
   * its row locks for as long as the server believes the connection, hours on a silent network.
   * 0 or absent: never.
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * TCP keepalive probes after this much silence on a connection (then at the kernel's interval
   * and count), so the OS finally drops one whose peer vanished. 0 or absent: off.
   */
  keepAliveMs?: number;
  onError?: (err: Error) => void;
  /** Hears each retry (for `anki_db_retries_total{code}`). */
  onRetry?: (code: RetriedSqlState) => void;
}

/** The client-side read timeout {@link PgDatabaseOptions.queryTimeoutMs} resolves to; undefined: none. */
function resolveQueryTimeoutMs(o: Pick<PgDatabaseOptions, 'queryTimeoutMs' | 'statementTimeoutMs'>): number | undefined {
  if (o.queryTimeoutMs) return o.queryTimeoutMs;
  return o.statementTimeoutMs > 0 ? o.statementTimeoutMs + 1000 : undefined;
}

/**
 * The pg pool settings of {@link PgDatabaseOptions}. Every one of them works on PostgreSQL and
 * CockroachDB alike: the timeouts are session variables both know, keepalive is the client's socket.
 */
export function pgPoolConfig(o: PgDatabaseOptions): PoolConfig {
  const queryTimeoutMs = resolveQueryTimeoutMs(o);
  return {
    connectionString: o.url,
    max: o.poolSize,
    connectionTimeoutMillis: o.connectTimeoutMs,
    statement_timeout: o.statementTimeoutMs,
    ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs } : {}),
    ...(o.idleInTransactionTimeoutMs ? { idle_in_transaction_session_timeout: o.idleInTransactionTimeoutMs } : {}),
    ...(o.keepAliveMs ? { keepAlive: true, keepAliveInitialDelayMillis: o.keepAliveMs } : {}),
    idleTimeoutMillis: 30_000,
    application_name: o.applicationName,
  };
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
    this.pool = new pg.Pool(pgPoolConfig(o));
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
      // A statement that failed without an answer from the server (a read timeout, a dropped
      // connection) leaves the connection unusable: a ROLLBACK sent into it would only wait out
      // the timeout again. It is discarded instead, and the server rolls back as the session ends.
      let unanswered: Error | undefined;
      return {
        query: async <R>(text: string, params: readonly unknown[] = []) => {
          if (unanswered) throw new Error(`connection given up after: ${unanswered.message}`, { cause: unanswered });
          try {
            const r = await c.query(text, params as unknown[]);
            return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
          } catch (err) {
            if (!(err instanceof pg.DatabaseError)) unanswered = err as Error;
            throw err;
          }
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
          ...(this.o.keepAliveMs ? { keepAlive: true, keepAliveInitialDelayMillis: this.o.keepAliveMs } : {}),
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
