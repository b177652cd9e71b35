import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { backoffMs, isSerializationFailure, runTransaction, type Queryable, type QueryResult } from '../../../src/store/db';

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
    }, 5);

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
    }, 5);
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
    assert.equal(await runTransaction(connect, async () => ++runs, 3), 2);
    assert.equal(clients.length, 2);
  });

  it('throws a non-retryable error at once, after rolling back and releasing the client', async () => {
    const duplicate = sqlError('23505', 'duplicate key value violates unique constraint');
    const { clients, connect } = pool(() => ({ on: 'INSERT', error: duplicate }));
    let runs = 0;
    await assert.rejects(runTransaction(connect, async (q) => {
      runs++;
      await q.query('INSERT');
    }, 5), (err) => err === duplicate);
    assert.equal(runs, 1);
    assert.equal(clients.length, 1);
    assert.deepEqual(clients[0]!.statements, ['BEGIN', 'INSERT', 'ROLLBACK']);
    assert.deepEqual(clients[0]!.releases, [undefined]);
  });

  it('throws an error raised by the function itself without retrying', async () => {
    const { clients, connect } = pool(() => undefined);
    let runs = 0;
    await assert.rejects(runTransaction(connect, async () => { runs++; throw new Error('validation failed'); }, 5), /validation failed/);
    assert.equal(runs, 1);
    assert.deepEqual(clients[0]!.statements, ['BEGIN', 'ROLLBACK']);
  });

  it('throws the serialization error once maxAttempts is reached', async () => {
    const errors = [sqlError('40001', 'restart 1'), sqlError('40001', 'restart 2'), sqlError('40001', 'restart 3')];
    const { clients, connect } = pool((n) => ({ on: 'COMMIT', error: errors[n - 1]! }));
    let runs = 0;
    await assert.rejects(runTransaction(connect, async () => { runs++; }, 3), (err) => err === errors[2]);
    assert.equal(runs, 3);
    assert.equal(clients.length, 3);
    for (const c of clients) {
      assert.equal(c.statements.at(-1), 'ROLLBACK');
      assert.deepEqual(c.releases, [undefined]);
    }
  });

  it('runs once and does not retry when maxAttempts is 1', async () => {
    const { clients, connect } = pool(() => ({ on: 'COMMIT', error: sqlError('40001') }));
    await assert.rejects(runTransaction(connect, async () => 'x', 1), (err: unknown) => (err as { code?: string }).code === '40001');
    assert.equal(clients.length, 1);
  });

  it('releases a client whose ROLLBACK failed with that error, so the pool discards it', async () => {
    const { clients, connect } = pool((n) => (n === 1 ? { on: 'COMMIT', error: sqlError('40001') } : undefined), true);
    assert.equal(await runTransaction(connect, async () => 'done', 3), 'done');
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

describe('backoffMs', () => {
  it('stays between half and all of the capped exponential delay with the default jitter', () => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const exp = Math.min(2000, 20 * 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const d = backoffMs(attempt);
        assert.ok(d >= Math.floor(exp / 2) && d <= exp, `attempt ${attempt}: ${d} outside [${exp / 2}, ${exp}]`);
      }
    }
  });

  it('never exceeds the cap and never goes negative, for any base, cap and jitter (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 60_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, base, max, jitter) => {
        const d = backoffMs(attempt, base, max, jitter);
        const exp = Math.min(max, base * 2 ** (attempt - 1));
        assert.ok(Number.isInteger(d));
        assert.ok(d >= 0 && d <= Math.ceil(exp), `${d} > ${exp}`);
        assert.ok(d >= Math.floor(exp * (1 - jitter)), `${d} < ${exp * (1 - jitter)}`);
      }),
    );
  });

  it('grows with the attempt number until it reaches the cap', () => {
    assert.equal(backoffMs(1, 20, 2000, 0), 20);
    assert.equal(backoffMs(2, 20, 2000, 0), 40);
    assert.equal(backoffMs(5, 20, 2000, 0), 320);
    assert.equal(backoffMs(30, 20, 2000, 0), 2000);
  });
});
