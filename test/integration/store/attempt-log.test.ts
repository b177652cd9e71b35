import { strict as assert } from 'node:assert';
import { queuedTaskRecord } from '../../helpers/task-record';
import { createIsolation, type Isolation } from '../../helpers/isolation';
import { ATTEMPT_LOG_MAX, migrate, PgDatabase, TaskRepository, TaskRetryRepository, type AttemptLogEntry } from '../../../src/store';

/** The log without its times: what changed, at which attempt, where, and why. */
const story = (log: AttemptLogEntry[] | null | undefined) => (log ?? []).map(({ at: _at, ...rest }) => rest);

describe('task store on PostgreSQL: the attempt log (a task\'s story)', function () {
  this.timeout(30_000);
  let iso: Isolation;
  let db: PgDatabase;
  let repo: TaskRepository;

  before(async () => {
    iso = await createIsolation('attemptlog');
    db = new PgDatabase({ url: iso.databaseUrl, poolSize: 2, statementTimeoutMs: 5000, connectTimeoutMs: 2000, maxTxAttempts: 3, applicationName: 'test' });
    await migrate(db, 'test');
    repo = new TaskRepository(db);
  });

  after(async () => {
    await db?.close();
    await iso?.destroy();
  });

  it('records each change with its attempt, An, Ki and GPUs, and the error and Ki of an attempt that a retry ends', async () => {
    const t = queuedTaskRecord();
    await repo.insertMany([t]);
    const lost = { code: 'KI_LOST', message: 'ki2 stopped heartbeating', retryable: true };
    await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 0, an: 'an1', ki: 'ki2', gpus: { ki2: [0, 1] }, leaseMs: 5000 }]);
    await repo.applyTransitions([{ id: t.id, name: 'start', expectedAttempts: 1, startedAt: new Date() }]);
    await repo.applyTransitions([{ id: t.id, name: 'retry', expectedAttempts: 1, an: null, ki: null, leaseMs: null, runAfterMs: 0, outcome: { result: null, error: lost } }]);
    await repo.applyTransitions([{ id: t.id, name: 'release', expectedAttempts: 1 }]);
    await repo.applyTransitions([{ id: t.id, name: 'dispatchAndSucceed', expectedAttempts: 1, an: 'an1', ki: 'ki1', outcome: { result: 1, error: null }, finishedAt: new Date() }]);
    assert.equal((await repo.applyTransitions([{ id: t.id, name: 'succeed', expectedAttempts: 2 }])).length, 0);
    const row = await repo.get(t.id);
    assert.deepEqual(story(row?.attemptLog), [
      { status: 'dispatched', attempt: 1, an: 'an1', ki: 'ki2', gpus: { ki2: [0, 1] } },
      { status: 'running', attempt: 1, an: 'an1', ki: 'ki2' },
      { status: 'scheduled', attempt: 1, an: 'an1', ki: 'ki2', error: { code: 'KI_LOST', message: 'ki2 stopped heartbeating' } },
      { status: 'queued', attempt: 1 },
      { status: 'succeeded', attempt: 2, an: 'an1', ki: 'ki1' },
    ], 'a refused (guarded) write adds nothing');
    assert.ok(row?.attemptLog?.every((e) => Number.isFinite(Date.parse(e.at))), 'each entry has the store\'s time');
  });

  it('records a cancel and a caller\'s retry', async () => {
    const t = queuedTaskRecord();
    await repo.insertMany([t]);
    await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 0, an: 'an1', ki: 'ki1' }]);
    await repo.applyTransitions([{ id: t.id, name: 'fail', expectedAttempts: 1, outcome: { result: null, error: { code: 'TASK_FAILED', message: 'no', retryable: false } } }]);
    const retried = await new TaskRetryRepository(db).retry((await repo.get(t.id))!, 'ops');
    assert.ok('task' in retried);
    await repo.cancel(t.id, 'changed my mind');
    assert.deepEqual(story((await repo.get(t.id))?.attemptLog).map((e) => [e.status, e.attempt, e.error?.code]), [
      ['dispatched', 1, undefined], ['failed', 1, 'TASK_FAILED'], ['queued', 1, undefined], ['cancelled', 1, 'CANCELLED'],
    ]);
  });

  it('keeps the newest entries only', async () => {
    const t = queuedTaskRecord();
    await repo.insertMany([t]);
    for (let a = 0; a < ATTEMPT_LOG_MAX / 2 + 5; a++) {
      await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: a, an: 'an1', ki: 'ki1' }]);
      await repo.applyTransitions([{ id: t.id, name: 'requeueLost', expectedAttempts: a + 1 }]);
    }
    const log = (await repo.get(t.id))?.attemptLog ?? [];
    assert.equal(log.length, ATTEMPT_LOG_MAX);
    assert.deepEqual([log.at(-1)?.status, log.at(-1)?.attempt], ['queued', ATTEMPT_LOG_MAX / 2 + 5]);
  });
});
