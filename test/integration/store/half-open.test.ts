import { strict as assert } from 'node:assert';
import { createIsolation, type Isolation } from '../../helpers/isolation';
import { TcpProxy } from '../../helpers/tcp-proxy';
import { queuedTaskRecord } from '../../helpers/task-record';
import { migrate, PgDatabase, TaskRepository } from '../../../src/store';
import { viaProxy } from '../../helpers/node-link';

describe('task store on PostgreSQL: a connection that goes silent (half-open)', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let proxy: TcpProxy;
  const open: PgDatabase[] = [];
  const database = (url: string, over: Partial<ConstructorParameters<typeof PgDatabase>[0]> = {}) => {
    const db = new PgDatabase({ url, poolSize: 2, statementTimeoutMs: 3000, connectTimeoutMs: 1000, maxTxAttempts: 1, applicationName: 'half-open', idleInTransactionTimeoutMs: 1000, ...over });
    open.push(db);
    return db;
  };

  before(async () => {
    iso = await createIsolation('halfopenstore');
    await migrate(database(iso.databaseUrl), 'test');
  });

  beforeEach(async () => {
    proxy = new TcpProxy(5432);
    await proxy.start();
  });

  afterEach(async () => {
    proxy.restore();
    for (const db of open.splice(1)) await db.close().catch(() => undefined);
    await proxy.stop();
  });

  after(async () => {
    for (const db of open.splice(0)) await db.close().catch(() => undefined);
    await iso?.destroy();
  });

  it('lets another node take an idempotency key that a node cut off mid-transaction had claimed: the server ends the idle transaction', async () => {
    const cutOff = database(viaProxy(iso.databaseUrl, '127.0.0.1', proxy.port));
    const other = new TaskRepository(database(iso.databaseUrl));
    // The first principal claims the key, then its network goes silent before it can commit.
    const claim = cutOff.transaction(async (q) => {
      await q.query("INSERT INTO task_idempotency (owner, key, task_ids, created_at) VALUES ('alice', 'k-1', '[]'::jsonb, now())");
      proxy.freeze();
      await q.query('SELECT 1');
    });
    await assert.rejects(claim, 'the cut-off node gets no answer and gives up');

    // The client retries the request through another principal while the first is still cut off.
    const task = queuedTaskRecord();
    const retried = await other.insertIdempotent('alice', 'k-1', [task]);
    assert.deepEqual(retried, { existing: null }, 'the claim of the cut-off node was rolled back, not held');
    assert.equal((await other.get(task.id))?.status, 'queued');
  });

  it('fails a query on a silent connection after the query timeout instead of waiting for ever, and works again once it flows', async () => {
    const db = database(viaProxy(iso.databaseUrl, '127.0.0.1', proxy.port), { statementTimeoutMs: 0, queryTimeoutMs: 1500 });
    assert.deepEqual((await db.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    proxy.freeze();
    await assert.rejects(db.query('SELECT 2'), /timeout/i);
    proxy.restore();
    assert.deepEqual((await db.query('SELECT 3 AS three')).rows, [{ three: 3 }]);
  });
});
