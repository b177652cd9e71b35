import { strict as assert } from 'node:assert';
import { DatabaseError, type PoolClient } from 'pg';
import { PgDatabase, pgPoolConfig, runTransaction, type PgDatabaseOptions, type Queryable, type QueryResult } from '../../../src/store/db';
import { isSerializationFailure } from '../../../src/store/serialization-retry';
import { DbRetriesExhaustedError } from '../../../src/errors';

/** An error as pg raises it: a message and a SQLSTATE in `code`. */
const sqlError = (code: string, message = `sqlstate ${code}`) => Object.assign(new Error(message), { code });

interface FailPlan {
  /** Throws this error when the statement equals `on` (e.g. 'COMMIT'). */
  on: string;
  error: Error;
}

/** A checked-out client that records statements and release calls; it never opens a socket. */
class FakeClient implements Queryable {
  readonly statements: string[] = [];
  readonly releases: (boolean | Error | undefined)[] = [];
  constructor(private readonly fail?: FailPlan, private readonly failRollback = false) {}

  async query<R = Record<string, unknown>>(text: string): Promise<QueryResult<R>> {
    this.statements.push(text);
    if (this.fail && text === this.fail.on) throw this.fail.error;
    if (text === 'ROLLBACK' && this.failRollback) throw new Error('connection lost');
    return { rows: [], rowCount: 0 };
  }

  release(err?: boolean | Error): void {
    this.releases.push(err);
  }
}

/** Hands out one fresh client per attempt; `plan(n)` decides how attempt n (1-based) fails. */
function pool(plan: (attempt: number) => FailPlan | undefined, failRollback = false) {
  const clients: FakeClient[] = [];
  const connect = async () => {
    const c = new FakeClient(plan(clients.length + 1), failRollback);
    clients.push(c);
    return c;
  };
  return { clients, connect };
}

describe('runTransaction', () => {
  it('retries when COMMIT fails with 40001 and returns the result of the attempt that committed', async () => {
    const { clients, connect } = pool((n) => (n <= 2 ? { on: 'COMMIT', error: sqlError('40001') } : undefined));
    let runs = 0;
    const out = await runTransaction(connect, async (q) => {
      runs++;
      await q.query('UPDATE tasks SET priority = 1');
      return `result-${runs}`;
    }, { maxAttempts: 5 });

    assert.equal(out, 'result-3');
    assert.equal(runs, 3);
    assert.equal(clients.length, 3);
    for (const c of clients.slice(0, 2)) assert.deepEqual(c.statements, ['BEGIN', 'UPDATE tasks SET priority = 1', 'COMMIT', 'ROLLBACK']);
    assert.deepEqual(clients[2]!.statements, ['BEGIN', 'UPDATE tasks SET priority = 1', 'COMMIT']);
    for (const c of clients) assert.deepEqual(c.releases, [undefined]);
  });

  it('retries when a statement inside the transaction fails with 40001', async () => {
    const { clients, connect } = pool((n) => (n <= 2 ? { on: 'SELECT 1', error: sqlError('40001') } : undefined));
    let runs = 0;
    const out = await runTransaction(connect, async (q) => {
      runs++;
      await q.query('SELECT 1');
      return 'ok';
    }, { maxAttempts: 5 });
    assert.equal(out, 'ok');
    assert.equal(runs, 3);
    for (const c of clients.slice(0, 2)) {
      assert.deepEqual(c.statements, ['BEGIN', 'SELECT 1', 'ROLLBACK']);
      assert.equal(c.statements.includes('COMMIT'), false);
    }
    assert.ok(clients.every((c) => c.releases.length === 1));
  });

  it('retries a deadlock (40P01) too', async () => {
    const { clients, connect } = pool((n) => (n === 1 ? { on: 'COMMIT', error: sqlError('40P01') } : undefined));
    let runs = 0;
    assert.equal(await runTransaction(connect, async () => ++runs, { maxAttempts: 3 }), 2);
    assert.equal(clients.length, 2);
  });

  it('throws a non-retryable error at once, after rolling back and releasing the client', async () => {
    const duplicate = sqlError('23505', 'duplicate key value violates unique constraint');
    const { clients, connect } = pool(() => ({ on: 'INSERT', error: duplicate }));
    let runs = 0;
    await assert.rejects(runTransaction(connect, async (q) => {
      runs++;
      await q.query('INSERT');
    }, { maxAttempts: 5 }), (err) => err === duplicate);
    assert.equal(runs, 1);
    assert.equal(clients.length, 1);
    assert.deepEqual(clients[0]!.statements, ['BEGIN', 'INSERT', 'ROLLBACK']);
    assert.deepEqual(clients[0]!.releases, [undefined]);
  });

  it('throws an error raised by the function itself without retrying', async () => {
    const { clients, connect } = pool(() => undefined);
    let runs = 0;
    await assert.rejects(runTransaction(connect, async () => { runs++; throw new Error('validation failed'); }, { maxAttempts: 5 }), /validation failed/);
    assert.equal(runs, 1);
    assert.deepEqual(clients[0]!.statements, ['BEGIN', 'ROLLBACK']);
  });

  it('gives up once maxAttempts is reached with an error that names the SQLSTATE and keeps the last one as cause', async () => {
    const errors = [sqlError('40001', 'restart 1'), sqlError('40001', 'restart 2'), sqlError('40001', 'restart 3')];
    const { clients, connect } = pool((n) => ({ on: 'COMMIT', error: errors[n - 1]! }));
    let runs = 0;
    await assert.rejects(runTransaction(connect, async () => { runs++; }, { maxAttempts: 3 }), (err) => {
      assert.ok(err instanceof DbRetriesExhaustedError);
      assert.equal(err.sqlState, '40001');
      assert.equal(err.attempts, 3);
      assert.equal(err.cause, errors[2]);
      return true;
    });
    assert.equal(runs, 3);
    assert.equal(clients.length, 3);
    for (const c of clients) {
      assert.equal(c.statements.at(-1), 'ROLLBACK');
      assert.deepEqual(c.releases, [undefined]);
    }
  });

  it('runs once and does not retry when maxAttempts is 1', async () => {
    const { clients, connect } = pool(() => ({ on: 'COMMIT', error: sqlError('40001') }));
    await assert.rejects(runTransaction(connect, async () => 'x', { maxAttempts: 1 }), (err: unknown) => err instanceof DbRetriesExhaustedError && err.attempts === 1);
    assert.equal(clients.length, 1);
  });

  it('releases a client whose ROLLBACK failed with that error, so the pool discards it', async () => {
    const { clients, connect } = pool((n) => (n === 1 ? { on: 'COMMIT', error: sqlError('40001') } : undefined), true);
    assert.equal(await runTransaction(connect, async () => 'done', { maxAttempts: 3 }), 'done');
    assert.equal(clients.length, 2);
    const released = clients[0]!.releases[0];
    assert.ok(released instanceof Error);
    assert.match(released.message, /connection lost/);
    assert.deepEqual(clients[1]!.releases, [undefined]);
  });
});

describe('isSerializationFailure', () => {
  it('recognises 40001 and 40P01 and nothing else', () => {
    assert.equal(isSerializationFailure(sqlError('40001')), true);
    assert.equal(isSerializationFailure(sqlError('40P01')), true);
    assert.equal(isSerializationFailure(sqlError('23505')), false);
    assert.equal(isSerializationFailure(new Error('40001')), false);
    assert.equal(isSerializationFailure(undefined), false);
    assert.equal(isSerializationFailure(null), false);
  });
});

describe('PgDatabase', () => {
  const options: PgDatabaseOptions = { url: 'postgres://nobody@127.0.0.1:1/none', poolSize: 2, statementTimeoutMs: 5000, connectTimeoutMs: 1000, maxTxAttempts: 3, applicationName: 'unit' };

  /** A PgDatabase whose pool hands out fake clients: `answer(statement)` resolves or throws as the server (or the network) would. */
  function fakePool(answer: (text: string, attempt: number) => void) {
    const db = new PgDatabase(options);
    const statements: string[][] = [];
    const releases: unknown[] = [];
    db.pool.connect = (async () => {
      const mine: string[] = [];
      statements.push(mine);
      const attempt = statements.length;
      return {
        query: async (text: string) => { mine.push(text); answer(text, attempt); return { rows: [], rowCount: 0 }; },
        release: (err?: unknown) => { releases.push(err); },
      } as unknown as PoolClient;
    }) as never;
    return { db, statements, releases };
  }


  it('gives up a transaction\'s connection that stopped answering, without sending it a ROLLBACK that would wait out the timeout again', async () => {
    const { db, statements, releases } = fakePool((text) => { if (text === 'UPDATE tasks SET priority = 1') throw new Error('Query read timeout'); });
    await assert.rejects(db.transaction((q) => q.query('UPDATE tasks SET priority = 1')), /Query read timeout/);
    assert.deepEqual(statements, [['BEGIN', 'UPDATE tasks SET priority = 1']]);
    assert.equal(releases.length, 1);
    assert.ok(releases[0] instanceof Error, 'released with an error: the pool discards the connection');
    await db.close();
  });

  it('rolls back over the same connection when the server answered with an error, and retries a serialization failure', async () => {
    const restart = Object.assign(new DatabaseError('restart transaction', 0, 'error'), { code: '40001' });
    const { db, statements, releases } = fakePool((text, attempt) => { if (text === 'COMMIT' && attempt === 1) throw restart; });
    assert.equal(await db.transaction(async (q) => { await q.query('UPDATE tasks SET priority = 1'); return 'ok'; }), 'ok');
    assert.deepEqual(statements, [['BEGIN', 'UPDATE tasks SET priority = 1', 'COMMIT', 'ROLLBACK'], ['BEGIN', 'UPDATE tasks SET priority = 1', 'COMMIT']]);
    assert.deepEqual(releases, [undefined, undefined]);
    await db.close();
  });

  it('maps its timeouts onto the pool: a query timeout past the statement timeout, idle-transaction timeout and keepalive when asked', () => {
    assert.equal(pgPoolConfig(options).query_timeout, 6000, 'the statement timeout and a second for the answer to arrive');
    assert.equal(pgPoolConfig({ ...options, queryTimeoutMs: 2500 }).query_timeout, 2500);
    assert.equal(pgPoolConfig({ ...options, statementTimeoutMs: 0 }).query_timeout, undefined, 'no statement timeout and none asked: none');
    assert.equal(pgPoolConfig(options).idle_in_transaction_session_timeout, undefined);
    assert.equal(pgPoolConfig({ ...options, idleInTransactionTimeoutMs: 10_000 }).idle_in_transaction_session_timeout, 10_000);
    assert.equal(pgPoolConfig(options).keepAlive, undefined);
    const kept = pgPoolConfig({ ...options, keepAliveMs: 10_000 });
    assert.equal(kept.keepAlive, true);
    assert.equal(kept.keepAliveInitialDelayMillis, 10_000);
  });
});
