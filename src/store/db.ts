import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, Pool, PoolConfig } from 'pg';
import { pg } from './pg-driver';
import { nextDelayMs, TX_RETRY } from '../task';

/** Rows and count of a statement. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Anything that runs SQL: a pool, a checked-out client, an embedded database. */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** The database a node uses: plain statements, transactions that retry, and a close. */
export interface Database extends Queryable {
  /** Runs `fn` in one transaction on one connection, retrying serialization failures (40001, 40P01). */
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

/** SQLSTATEs that mean "try the whole transaction again" (CockroachDB restarts, deadlocks). */
export function isSerializationFailure(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === '40001' || code === '40P01';
}

/**
 * Runs `fn` in a transaction on one client from `connect`, retrying on 40001/40P01 with jittered
 * backoff. Exported separately so the retry path can be tested by injecting those errors.
 */
export async function runTransaction<T, C extends Queryable & { release(err?: boolean | Error): void }>(
  connect: () => Promise<C>, fn: (q: Queryable) => Promise<T>, maxAttempts: number,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => { broken = e; });
      if (!isSerializationFailure(err) || attempt >= maxAttempts) throw err;
    } finally {
      client.release(broken);
    }
    await sleep(nextDelayMs({ ...TX_RETRY, maxAttempts }, attempt));
  }
}

/** PostgreSQL or CockroachDB through a pg pool. */
export class PgDatabase implements Database {
  readonly pool: Pool;
  /** The readiness ping's own connection: through the pool, a pool busy with writes would read as an outage. */
  #pingClient?: Client;
  constructor(private readonly o: PgDatabaseOptions) {
    this.pool = new pg.Pool(pgPoolConfig(o));
    // Errors on idle clients are emitted by the pool; unhandled they would crash the process.
    this.pool.on('error', (err) => o.onError?.(err));
  }

  async query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    const r = await this.pool.query(text, params as unknown[]);
    return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
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
    }, fn, this.o.maxTxAttempts);
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
