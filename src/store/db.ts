import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, Pool } from 'pg';
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
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  maxTxAttempts: number;
  applicationName: string;
  onError?: (err: Error) => void;
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

  async query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    const r = await this.pool.query(text, params as unknown[]);
    return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
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
    }, fn, this.o.maxTxAttempts);
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
