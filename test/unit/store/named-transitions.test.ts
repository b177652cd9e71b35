import { queuedTaskRecord } from '../../helpers/task-record';
import { strict as assert } from 'node:assert';
import { UnknownTransitionError } from '../../../src/errors';
import type { PgliteDatabase } from '../../../src/store/pglite-database';
import type { TaskRecord } from '../../../src/store/task-record';
import { TaskRepository } from '../../../src/store/task-repository';
import { compileGuard } from '../../../src/store/transition-guard';
import { TASK_STATUSES, TRANSITION_NAMES, TRANSITIONS, type TaskStatus, type TransitionName } from '../../../src/task';
import { migratedPglite } from '../../helpers/migrated-pglite';

function newTask(over: Partial<TaskRecord> = {}): TaskRecord {
  return queuedTaskRecord({ attempts: 2, maxAttempts: 5, ...over });
}

/**
 * The repository compiles each named transition of the table into its guarded UPDATE: it moves a
 * task only from the states the table names, at the expected attempt, to the state it names,
 * counting an attempt only where the table says so. Every transition against every state.
 */
describe('TaskRepository: named transitions compile into their guarded UPDATE', function () {
  this.timeout(60_000);
  let db: PgliteDatabase;
  let repo: TaskRepository;

  before(async () => {
    db = await migratedPglite();
    repo = new TaskRepository(db);
  });
  after(() => db?.close());

  /** A task in `status` at attempt 2. */
  const taskIn = async (status: TaskStatus): Promise<TaskRecord> => {
    const t = newTask({ status });
    await repo.insertMany([t]);
    return t;
  };

  for (const name of TRANSITION_NAMES) {
    const rule = TRANSITIONS[name];
    it(`${name}: moves a task from ${rule.from.join('/')} to ${rule.to} and from no other state`, async () => {
      for (const status of TASK_STATUSES) {
        const t = await taskIn(status);
        const applied = await repo.applyTransitions([{ id: t.id, name, expectedAttempts: 2 }]);
        const after = await repo.get(t.id);
        if ((rule.from as readonly TaskStatus[]).includes(status)) {
          const attempts = 'countsAttempt' in rule ? 3 : 2;
          assert.deepEqual(applied, [{ id: t.id, attempts, status: rule.to }], `${name} from ${status}`);
          assert.equal(after?.status, rule.to);
          assert.equal(after?.attempts, attempts);
        } else {
          assert.deepEqual(applied, [], `${name} must not leave ${status}`);
          assert.equal(after?.status, status);
          assert.equal(after?.attempts, 2);
        }
      }
    });
  }

  it('applies a named transition only at the expected attempt', async () => {
    const t = await taskIn('running');
    assert.deepEqual(await repo.applyTransitions([{ id: t.id, name: 'succeed', expectedAttempts: 1, outcome: { result: 1, error: null } }]), []);
    assert.deepEqual(await repo.applyTransitions([{ id: t.id, name: 'succeed', expectedAttempts: 2, outcome: { result: 1, error: null } }]), [{ id: t.id, attempts: 2, status: 'succeeded' }]);
    assert.equal((await repo.get(t.id))?.result, 1);
  });

  it('applies different transitions in one statement', async () => {
    const a = await taskIn('queued');
    const b = await taskIn('dispatched');
    const applied = await repo.applyTransitions([
      { id: a.id, name: 'dispatch', expectedAttempts: 2, an: 'an1', ki: 'ki1', leaseMs: 5000 },
      { id: b.id, name: 'start', expectedAttempts: 2 },
    ]);
    assert.deepEqual(applied.sort((x, y) => (x.status < y.status ? -1 : 1)), [{ id: a.id, attempts: 3, status: 'dispatched' }, { id: b.id, attempts: 2, status: 'running' }]);
    assert.equal((await repo.get(a.id))?.ki, 'ki1');
  });

  it('refuses a transition name outside the table, writing nothing', async () => {
    const t = await taskIn('queued');
    await assert.rejects(repo.applyTransitions([{ id: t.id, name: 'resurrect' as TransitionName, expectedAttempts: 2 }]), UnknownTransitionError);
    await assert.rejects(repo.applyTransitions([{ id: t.id, name: 'toString' as TransitionName, expectedAttempts: 2 }]), UnknownTransitionError);
    assert.equal((await repo.get(t.id))?.status, 'queued');
  });

  it('compiles a transition from its entry in the table', () => {
    assert.deepEqual(compileGuard({ id: 'x', name: 'dispatch', expectedAttempts: 0 }), { from: ['queued'], to: 'dispatched', bump: true });
    assert.deepEqual(compileGuard({ id: 'x', name: 'handBack', expectedAttempts: 0 }), { from: ['queued', 'dispatched', 'running'], to: 'queued', bump: false });
  });

  it('cancels a task only from the states the cancel transition leaves', async () => {
    for (const status of TASK_STATUSES) {
      const t = await taskIn(status);
      const out = await repo.cancel(t.id, 'no longer needed');
      const cancellable = (TRANSITIONS.cancel.from as readonly TaskStatus[]).includes(status);
      assert.equal(out !== undefined, cancellable, status);
      if (out) {
        assert.equal(out.before.status, status);
        assert.equal(out.after.status, 'cancelled');
        assert.deepEqual(out.after.error, { code: 'CANCELLED', message: 'no longer needed', retryable: false });
      }
    }
  });
});
