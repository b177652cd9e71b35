import { PGlite, types } from '@electric-sql/pglite';
import { runTransaction, type Database, type Queryable, type QueryResult } from './db';
import { retrySerializationFailures, type RetriedSqlState, type SerializationRetryOptions } from './serialization-retry';

/** How {@link PgliteDatabase} is opened. */
export interface PgliteDatabaseOptions {
  /** Folder that keeps the data across restarts; in memory when undefined. */
  dataDir?: string;
  /**
   * Tries of a statement or transaction that hits a serialization failure (40001, 40P01). One
   * session has no concurrent writers, so only a function that raises them (tests) causes one.
   * @defaultValue 5
   */
  maxTxAttempts?: number;
  /** Hears each retry (for `anki_db_retries_total{code}`). */
  onRetry?: (code: RetriedSqlState) => void;
  /** Starts from a copy of another database ({@link PgliteDatabase.dump}) instead of an empty one. */
  from?: Blob;
}

/** Statements whose row count is the rows they changed rather than the rows they returned. */
const WRITE_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/**
 * PostgreSQL compiled to WebAssembly, inside this process: `standalone` without `DATABASE_URL`,
 * and fast unit tests of the SQL. It runs the repositories' SQL unchanged.
 *
 * PGlite has one session. A transaction therefore holds this object's lock from BEGIN to
 * COMMIT and every other statement waits for it; without that, a statement of another caller
 * would run inside someone else's transaction (and be rolled back with it). A transaction's
 * callback must use the `Queryable` it is given: calling this database from inside it waits
 * for a lock the callback itself holds.
 */
export class PgliteDatabase implements Database {
  readonly #pg: PGlite;
  readonly #retry: SerializationRetryOptions;
  /** Tail of the lock queue: resolves when the last holder releases. */
  #tail: Promise<void> = Promise.resolve();
  #closing?: Promise<void>;

  constructor(options: PgliteDatabaseOptions = {}) {
    this.#retry = { maxAttempts: options.maxTxAttempts ?? 5, onRetry: options.onRetry };
    // One options object: PGlite reads its second argument only when the first is a folder, so an
    // in-memory database would otherwise lose these options.
    this.#pg = new PGlite({
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      ...(options.from ? { loadDataDir: options.from } : {}),
      // As the pg adapter does: every BIGINT here is a count or a millisecond figure far below 2^53.
      parsers: { [types.INT8]: (v: string) => Number(v) },
    });
  }

  /** Resolves once the database is initialised (a fresh data folder takes a few seconds); rejects if it cannot be. */
  ready(): Promise<void> {
    return this.#pg.waitReady;
  }

  /** One statement; run again when it fails with 40001 or 40P01, the session given back during the backoff. */
  query<R = Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    return retrySerializationFailures(async () => {
      const release = await this.#lock();
      try {
        return await this.#run<R>(text, params);
      } finally {
        release();
      }
    }, this.#retry);
  }

  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return runTransaction(async () => {
      const release = await this.#lock();
      let open = true;
      return {
        query: <R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> => {
          // A statement after the transaction ended would run outside the lock, in someone else's transaction.
          if (!open) return Promise.reject(new Error('transaction is over; its Queryable can no longer be used'));
          return this.#run<R>(text, params);
        },
        release: () => {
          open = false;
          release();
        },
      };
    }, fn, this.#retry);
  }

  /** A copy of the whole database, to start another from (`from`): far cheaper than a new one and its migrations. */
  async dump(): Promise<Blob> {
    const release = await this.#lock();
    try {
      return await this.#pg.dumpDataDir('none');
    } finally {
      release();
    }
  }

  /** Waits for running statements and transactions, then closes the database. */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      const release = await this.#lock();
      try {
        if (!this.#pg.closed) await this.#pg.close();
      } finally {
        release();
      }
    })());
  }

  async #run<R>(text: string, params: readonly unknown[]): Promise<QueryResult<R>> {
    // pg sends undefined as NULL; PGlite's serializers would fail on it.
    const values = params.map((v) => (v === undefined ? null : v));
    const r = await this.#pg.query<R>(text, values);
    const rowCount = r.rowCount ?? (r.command && WRITE_COMMANDS.has(r.command) ? (r.affectedRows ?? 0) : r.rows.length);
    return { rows: r.rows, rowCount };
  }

  /** Takes the session; resolves with the function that gives it back. */
  async #lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const before = this.#tail;
    this.#tail = before.then(() => held);
    await before;
    return release;
  }
}
