import { queuedTaskRecord } from '../../helpers/task-record';
import { strict as assert } from 'node:assert';
import { createIsolation, type Isolation } from '../../helpers/isolation';
import { migrate, MIGRATIONS, PgDatabase, TaskRepository, type TaskRecord } from '../../../src/store';

function newTask(over: Partial<TaskRecord> = {}): TaskRecord {
  return queuedTaskRecord({ payload: { a: [1, 2] }, ...over });
}

describe('task store on PostgreSQL: guarded transitions fenced by attempt', function () {
  this.timeout(30_000);
  let iso: Isolation;
  let db: PgDatabase;
  let repo: TaskRepository;

  before(async () => {
    iso = await createIsolation('store');
    db = new PgDatabase({ url: iso.databaseUrl, poolSize: 4, statementTimeoutMs: 5000, connectTimeoutMs: 2000, maxTxAttempts: 3, applicationName: 'test' });
    assert.deepEqual(await migrate(db, 'test-a'), MIGRATIONS.map((m) => m.version));
    assert.deepEqual(await migrate(db, 'test-b'), [], 'a second migrate finds nothing to do');
    repo = new TaskRepository(db);
  });

  after(async () => {
    await db?.close();
    await iso?.destroy();
  });

  it('stores a task and reads it back as it was written', async () => {
    const t = newTask();
    await repo.insertMany([t]);
    const got = await repo.get(t.id);
    assert.deepEqual(got?.payload, { a: [1, 2] });
    assert.equal(got?.status, 'queued');
  });

  it('completes a task once: a duplicate or late result changes nothing', async () => {
    const t = newTask();
    await repo.insertMany([t]);
    const dispatched = await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 0, an: 'an1', ki: 'ki1', leaseMs: 5000 }]);
    assert.deepEqual(dispatched.map((r) => [r.status, r.attempts]), [['dispatched', 1]]);
    assert.equal((await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 0 }])).length, 0, 'a duplicate pending message cannot dispatch again');

    const done = { id: t.id, name: 'succeed' as const, expectedAttempts: 1, outcome: { result: 42, error: null }, finishedAt: new Date(), leaseMs: null };
    assert.equal((await repo.applyTransitions([done])).length, 1);
    assert.equal((await repo.applyTransitions([{ ...done, outcome: { result: 43, error: null } }])).length, 0, 'a duplicate result is refused');
    const late = await repo.applyTransitions([{ ...done, expectedAttempts: 0 }]);
    assert.equal(late.length, 0, 'a result of an older attempt is refused');
    const row = await repo.get(t.id);
    assert.equal(row?.status, 'succeeded');
    assert.equal(row?.result, 42);
    assert.equal(row?.an, 'an1');
  });

  it('refuses a result from a Ki whose attempt was requeued and taken over', async () => {
    const t = newTask();
    await repo.insertMany([t]);
    await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 0, ki: 'ki-dead' }]);
    await repo.applyTransitions([{ id: t.id, name: 'takeOver', expectedAttempts: 1, ki: 'ki-new' }]);
    const stale = await repo.applyTransitions([{ id: t.id, name: 'fail', expectedAttempts: 1, outcome: { result: null, error: { code: 'X', message: 'late', retryable: false } } }]);
    assert.equal(stale.length, 0);
    const fresh = await repo.applyTransitions([{ id: t.id, name: 'succeed', expectedAttempts: 2, outcome: { result: 'ok', error: null } }]);
    assert.deepEqual(fresh.map((r) => r.attempts), [2]);
  });

  it('applies many transitions in one statement and reports which held', async () => {
    const tasks = Array.from({ length: 50 }, () => newTask());
    await repo.insertMany(tasks);
    const applied = await repo.applyTransitions(tasks.map((t, i) => ({ id: t.id, name: 'dispatch', expectedAttempts: i % 2 === 0 ? 0 : 7 })));
    assert.equal(applied.length, 25);
  });

  it('cancels only unfinished tasks and reports the state before', async () => {
    const t = newTask();
    await repo.insertMany([t]);
    await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 0, ki: 'ki9' }]);
    const out = await repo.cancel(t.id, 'stop');
    assert.equal(out?.before.status, 'dispatched');
    assert.equal(out?.after.status, 'cancelled');
    assert.equal(await repo.cancel(t.id, 'again'), undefined);
    const finish = await repo.applyTransitions([{ id: t.id, name: 'succeed', expectedAttempts: 1, outcome: { result: 1, error: null } }]);
    assert.equal(finish.length, 0, 'a cancelled task cannot succeed afterwards');
  });

  it('finds tasks without a confirmed publish and forgets them once marked', async () => {
    const t = newTask({ createdAt: new Date(Date.now() - 60_000) });
    await repo.insertMany([t]);
    assert.ok((await repo.findUnpublished(1000, 1000)).some((x) => x.id === t.id));
    await repo.markPublished([{ id: t.id, attempts: 0 }]);
    assert.ok(!(await repo.findUnpublished(1000, 1000)).some((x) => x.id === t.id));
  });

  it('keeps an idempotency key to one set of tasks per owner', async () => {
    const a = newTask();
    const b = newTask();
    assert.equal((await repo.insertIdempotent('alice', 'k', [a])).existing, null);
    assert.deepEqual((await repo.insertIdempotent('alice', 'k', [b])).existing, [a.id]);
    assert.equal(await repo.get(b.id), undefined, 'the repeated request stored nothing');
    assert.equal((await repo.insertIdempotent('bob', 'k', [b])).existing, null, 'keys are per owner');
  });
});
