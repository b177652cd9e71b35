import { strict as assert } from 'node:assert';
import pg from 'pg';
import { createIsolation, type Isolation } from '../../helpers/isolation';
import { queuedTaskRecord } from '../../helpers/task-record';
import { waitFor } from '../../helpers/wait';
import { AdmissionMap, migrate, PgDatabase, TaskRepository } from '../../../src/store';

/**
 * A test-only trigger on `tasks`: every INSERT statement takes a number from a sequence (which a
 * rollback does not give back, so it counts the attempts) and fails with the planned SQLSTATE
 * while that number is within the planned count.
 */
const INJECT_FAILURES_SQL = [
  'CREATE SEQUENCE test_insert_tries',
  'CREATE TABLE test_failure_plan (sqlstate TEXT NOT NULL, times INT NOT NULL)',
  `CREATE FUNCTION test_fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE plan record;
   BEGIN
     SELECT sqlstate, times INTO plan FROM test_failure_plan;
     IF nextval('test_insert_tries') <= coalesce(plan.times, 0) THEN
       RAISE EXCEPTION 'injected failure %', plan.sqlstate USING ERRCODE = plan.sqlstate;
     END IF;
     RETURN NULL;
   END $$`,
  'CREATE TRIGGER test_fail_insert BEFORE INSERT ON tasks FOR EACH STATEMENT EXECUTE FUNCTION test_fail_insert()',
];

describe('store statements on PostgreSQL at SERIALIZABLE: serialization failures are retried', function () {
  this.timeout(30_000);
  const MAX_ATTEMPTS = 4;
  let iso: Isolation;
  let db: PgDatabase;
  let admin: pg.Client;
  let repo: TaskRepository;
  const retries: string[] = [];

  /** The next INSERTs into tasks fail `times` times with `sqlstate`; resets the attempt count. */
  async function planFailures(sqlstate: string, times: number): Promise<void> {
    await admin.query('DELETE FROM test_failure_plan');
    await admin.query('INSERT INTO test_failure_plan (sqlstate, times) VALUES ($1::text, $2::int)', [sqlstate, times]);
    await admin.query('ALTER SEQUENCE test_insert_tries RESTART');
    retries.length = 0;
  }

  /** INSERT statements sent to tasks since the last plan. */
  async function insertTries(): Promise<number> {
    const r = await admin.query<{ last_value: string; is_called: boolean }>('SELECT last_value, is_called FROM test_insert_tries');
    return r.rows[0]!.is_called ? Number(r.rows[0]!.last_value) : 0;
  }

  async function taskCount(ids: readonly string[]): Promise<number> {
    const r = await admin.query<{ n: string }>('SELECT count(*) AS n FROM tasks WHERE id = ANY($1::uuid[])', [ids]);
    return Number(r.rows[0]!.n);
  }

  before(async () => {
    iso = await createIsolation('retry', { serializable: true });
    db = new PgDatabase({
      url: iso.databaseUrl, poolSize: 4, statementTimeoutMs: 5000, connectTimeoutMs: 2000, maxTxAttempts: MAX_ATTEMPTS, applicationName: 'retry-test',
      onRetry: (code) => { retries.push(code); },
    });
    await migrate(db, 'test');
    repo = new TaskRepository(db);
    admin = new pg.Client({ connectionString: iso.databaseUrl, application_name: 'retry-test-admin' });
    await admin.connect();
    for (const sql of INJECT_FAILURES_SQL) await admin.query(sql);
  });

  after(async () => {
    await admin?.end();
    await db?.close();
    await iso?.destroy();
  });

  it('runs a single UPDATE again when a concurrent transaction wins the row, and the UPDATE then applies', async () => {
    const task = queuedTaskRecord();
    await repo.insertMany([task]);
    retries.length = 0;
    const rival = new pg.Client({ connectionString: iso.databaseUrl, application_name: 'retry-test-rival' });
    await rival.connect();
    try {
      await rival.query('BEGIN');
      await rival.query('UPDATE tasks SET priority = 1 WHERE id = $1::uuid', [task.id]);
      const dispatch = repo.applyTransitions([{ id: task.id, name: 'dispatch', expectedAttempts: 0, an: 'an-1', leaseMs: 5000 }]);
      // The store's UPDATE waits for the rival's row lock; at SERIALIZABLE the rival's commit makes it fail with 40001.
      await waitFor(
        () => admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'retry-test' AND wait_event_type = 'Lock'"),
        (r) => r.rowCount === 1,
        { what: 'the store UPDATE to wait for the rival lock' },
      );
      await rival.query('COMMIT');
      const applied = await dispatch;
      assert.deepEqual(applied.map((a) => [a.id, a.status, a.attempts]), [[task.id, 'dispatched', 1]]);
    } finally {
      await rival.end();
    }
    const stored = await repo.get(task.id);
    assert.equal(stored?.status, 'dispatched');
    assert.equal(stored?.priority, 1, 'the rival write is kept: the retry ran on the committed row');
    assert.deepEqual(retries, ['40001']);
  });

  it('writes a single INSERT once after the database refused it twice with 40001', async () => {
    await planFailures('40001', 2);
    const map = new AdmissionMap(100);
    const task = queuedTaskRecord();
    await map.admit([{ id: task.id, owner: task.owner, createdAtMs: task.createdAt.getTime() }], () => repo.insertMany([task]));
    assert.equal(await insertTries(), 3);
    assert.equal(await taskCount([task.id]), 1);
    assert.ok(map.has(task.id));
    assert.deepEqual(retries, ['40001', '40001']);
  });

  it('retries a deadlock (40P01) the same way', async () => {
    await planFailures('40P01', 1);
    const task = queuedTaskRecord();
    await repo.insertMany([task]);
    assert.equal(await insertTries(), 2);
    assert.equal(await taskCount([task.id]), 1);
    assert.deepEqual(retries, ['40P01']);
  });

  it('gives up after the configured attempts with a clear error, nothing written and the admission map as it was', async () => {
    await planFailures('40001', 1000);
    const map = new AdmissionMap(100);
    const earlier = queuedTaskRecord();
    await map.admit([{ id: earlier.id, owner: earlier.owner, createdAtMs: 0 }], async () => undefined);
    const tasks = [queuedTaskRecord(), queuedTaskRecord()];
    await assert.rejects(
      map.admit(tasks.map((t) => ({ id: t.id, owner: t.owner, createdAtMs: t.createdAt.getTime() })), () => repo.insertMany(tasks)),
      (err: Error & { code?: string; cause?: { code?: string } }) => {
        assert.equal(err.code, 'DB_RETRIES_EXHAUSTED');
        assert.match(err.message, /40001/);
        assert.match(err.message, new RegExp(`${MAX_ATTEMPTS} attempts`));
        assert.equal(err.cause?.code, '40001', 'the last database error is kept as the cause');
        return true;
      },
    );
    assert.equal(await insertTries(), MAX_ATTEMPTS, 'tried exactly the configured number of times');
    assert.equal(await taskCount(tasks.map((t) => t.id)), 0, 'nothing was written');
    assert.deepEqual(tasks.map((t) => map.has(t.id)), [false, false], 'the admission map forgot the refused tasks');
    assert.equal(map.size, 1, 'and kept the one admitted before');
    assert.equal(retries.length, MAX_ATTEMPTS - 1);
  });

  it('runs a transaction again as a whole: the idempotency key and its tasks are written once', async () => {
    await planFailures('40001', 1);
    const task = queuedTaskRecord();
    assert.equal((await repo.insertIdempotent('alice', 'retry-key', [task])).existing, null);
    const keys = await admin.query("SELECT task_ids FROM task_idempotency WHERE owner = 'alice' AND key = 'retry-key'");
    assert.deepEqual(keys.rows.map((r) => r.task_ids), [[task.id]]);
    assert.equal(await taskCount([task.id]), 1);
    assert.deepEqual(retries, ['40001']);
  });

  it('does not repeat a statement that failed for another reason', async () => {
    await planFailures('40001', 0);
    const task = queuedTaskRecord();
    await repo.insertMany([task]);
    await assert.rejects(repo.insertMany([task]), (err: { code?: string }) => err.code === '23505');
    assert.equal(await insertTries(), 2, 'one try for the first insert, one for the duplicate');
    assert.deepEqual(retries, []);
  });
});
