import { queuedTaskRecord } from '../../helpers/task-record';
import { strict as assert } from 'node:assert';
import type { PgliteDatabase } from '../../../src/store/pglite-database';
import type { TaskRecord } from '../../../src/store/task-record';
import { TaskRepository } from '../../../src/store/task-repository';
import { MAX_TASK_ATTEMPTS, retriedMaxAttempts, TaskRetryRepository } from '../../../src/store/task-retry';
import { taskSpecSchema } from '../../../src/protocol/messages';
import { TASK_STATUSES } from '../../../src/task';
import { migratedPglite } from '../../helpers/migrated-pglite';

const FAILURE = { code: 'TASK_FAILED', message: 'boom', retryable: false };

describe('TaskRetryRepository: a failed task runs again under its id', function () {
  this.timeout(60_000);
  let db: PgliteDatabase;
  let repo: TaskRepository;
  let retries: TaskRetryRepository;

  before(async () => {
    db = await migratedPglite();
    repo = new TaskRepository(db);
    retries = new TaskRetryRepository(db);
  });
  after(() => db?.close());

  /** A task that failed for good at the attempt after its `attempts` (attempt 1 by default). */
  const failedTask = async (over: Partial<TaskRecord> = {}): Promise<TaskRecord> => {
    const t = queuedTaskRecord({ attempts: 0, maxAttempts: 1, ...over });
    await repo.insertMany([t]);
    const [applied] = await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: t.attempts, ki: 'ki1', an: 'an1', leaseMs: 5000 }]);
    assert.ok(applied);
    await repo.applyTransitions([{ id: t.id, name: 'fail', expectedAttempts: applied.attempts, leaseMs: null, finishedAt: new Date(), outcome: { result: null, error: FAILURE } }]);
    const stored = await repo.get(t.id);
    assert.equal(stored?.status, 'failed');
    return stored;
  };

  it('puts a failed task back in the queue, unowned and unpublished, keeping the failed run in its history', async () => {
    const t = await failedTask({ attempts: 0, maxAttempts: 1 });
    const out = await retries.retry(t, 'alice');
    assert.ok('task' in out);
    const after = out.task;
    assert.equal(after.status, 'queued');
    assert.equal(after.attempts, 1, 'the attempt counter is the next dispatch\'s to raise');
    assert.equal(after.maxAttempts, 2, 'one more attempt, as many as it was submitted with');
    assert.equal(after.an, null);
    assert.equal(after.ki, null);
    assert.equal(after.finishedAt, null);
    assert.ok(after.runAt, 'due from the retry on');
    assert.equal((await repo.findUnpublished(60_000, 1000)).some((u) => u.id === t.id), false, 'the sweeper leaves its publish a grace, as for a released task');
    assert.deepEqual(after.error, FAILURE, 'the error stays until the next outcome');
    assert.equal(after.retryHistory?.length, 1);
    assert.deepEqual({ ...after.retryHistory[0], retriedAt: undefined, finishedAt: undefined }, { retry: 1, attempts: 1, maxAttempts: 1, error: FAILURE, retriedBy: 'alice', retriedAt: undefined, finishedAt: undefined });
    const dispatched = await repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 1 }]);
    assert.deepEqual(dispatched.map((d) => d.attempts), [2], 'the new run is attempt 2');
    assert.equal((await repo.findUnpublished(-60_000, 1000)).some((u) => u.id === t.id), false, 'a dispatched task is not republished');
  });

  it('applies one of two retries of the same run: the second is refused as changed', async () => {
    const t = await failedTask();
    const [a, b] = await Promise.all([retries.retry(t, 'alice'), retries.retry(t, 'alice')]);
    assert.deepEqual([a, b].map((o) => ('task' in o ? 'applied' : o.refused)).sort(), ['applied', 'changed']);
    assert.deepEqual(await retries.retry((await repo.get(t.id))!, 'alice'), { refused: 'not-retryable' }, 'a queued task is not retried again');
  });

  it('refuses every state but failed', async () => {
    for (const status of TASK_STATUSES.filter((s) => s !== 'failed')) {
      const t = queuedTaskRecord({ status });
      await repo.insertMany([t]);
      assert.deepEqual(await retries.retry(t, 'alice'), { refused: 'not-retryable' }, status);
      assert.equal((await repo.get(t.id))?.status, status);
    }
  });

  it('refuses a stale read: the task failed again since, at a later attempt', async () => {
    const t = await failedTask();
    const first = await retries.retry(t, 'alice');
    assert.ok('task' in first);
    await repo.applyTransitions([{ id: t.id, name: 'dispatchAndFail', expectedAttempts: first.task.attempts, outcome: { result: null, error: FAILURE } }]);
    assert.deepEqual(await retries.retry(t, 'bob'), { refused: 'changed' });
    const again = await retries.retry((await repo.get(t.id))!, 'bob');
    assert.ok('task' in again);
    assert.deepEqual(again.task.retryHistory?.map((r) => [r.retry, r.retriedBy]), [[1, 'alice'], [2, 'bob']]);
  });

  it('gives each run the attempt budget the task was submitted with, within what the wire carries', () => {
    assert.equal(retriedMaxAttempts({ attempts: 3, maxAttempts: 3, retryHistory: null }), 6);
    assert.equal(retriedMaxAttempts({ attempts: 4, maxAttempts: 6, retryHistory: [{ retry: 1, attempts: 3, maxAttempts: 3, error: null, finishedAt: null, retriedAt: '', retriedBy: '' }] }), 7);
    assert.equal(retriedMaxAttempts({ attempts: 0, maxAttempts: 2, retryHistory: null }), 2, 'an unplaceable task never ran');
    assert.equal(retriedMaxAttempts({ attempts: 99, maxAttempts: 99, retryHistory: null }), MAX_TASK_ATTEMPTS);
    assert.equal(taskSpecSchema.shape.maxAttempts.safeParse(MAX_TASK_ATTEMPTS).success, true);
    assert.equal(taskSpecSchema.shape.maxAttempts.safeParse(MAX_TASK_ATTEMPTS + 1).success, false, 'the cap is the wire\'s');
  });

  it('refuses a task that used every attempt the wire allows', async () => {
    const t = await failedTask({ attempts: MAX_TASK_ATTEMPTS - 1, maxAttempts: MAX_TASK_ATTEMPTS });
    assert.deepEqual(await retries.retry(t, 'alice'), { refused: 'attempts-exhausted' });
  });
});
