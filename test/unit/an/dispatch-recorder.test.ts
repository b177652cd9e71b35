import { strict as assert } from 'node:assert';
import { DispatchRecorder } from '../../../src/an/dispatch-recorder';
import type { HeldTasks } from '../../../src/an/held-tasks';
import type { FinishTask, HeldTask } from '../../../src/an/in-flight';
import type { KiPool } from '../../../src/an/ki-pool';
import { silentLogger } from '../../../src/observability/logger';
import type { TaskRepository } from '../../../src/store/task-repository';
import { until } from './an-harness';
import { AN_DEFAULTS, fakeCommands, fakeDelivery, heldOnPool, heldTask, kiHeartbeat, pgliteStore, storeQueued, type FakeDelivery } from './parts-fixtures';

describe('DispatchRecorder: a dispatch is stored before its pending message is acked', function () {
  this.timeout(30_000);
  let store: Awaited<ReturnType<typeof pgliteStore>>;
  let held: HeldTasks;
  let pool: KiPool;
  let repo: TaskRepository;
  let commands: ReturnType<typeof fakeCommands>;
  let finished: { t: HeldTask; transition: string; code: string | undefined }[];
  let metrics: ReturnType<typeof heldOnPool>['metrics'];
  let recorder: DispatchRecorder;

  // One store for all: each test has its own tasks.
  // PGlite boots a WASM PostgreSQL: on a loaded machine that alone can take tens of seconds.
  before(async function () {
    this.timeout(180_000);
    store = await pgliteStore();
    repo = store.repo;
  });

  after(() => store.close());

  beforeEach(() => {
    ({ held, pool } = heldOnPool([kiHeartbeat('ki-1')]));
    commands = fakeCommands();
    finished = [];
    const finish: FinishTask = (t, transition, outcome) => { finished.push({ t, transition, code: outcome.error?.code }); return Promise.resolve(); };
    ({ metrics } = heldOnPool());
    const { dispatchRecordDelayMs, dbRetryMs } = AN_DEFAULTS;
    recorder = new DispatchRecorder({ nodeId: 'an-1', leaseMs: 30_000, dispatchRecordDelayMs, dbRetryMs, writer: store.writer, repo, held, commands, metrics, log: silentLogger(), finish });
  });

  /** A queued task, held and placed on ki-1. */
  async function placed(over: Partial<HeldTask> = {}): Promise<HeldTask & { delivery: FakeDelivery }> {
    const t = heldTask({ delivery: fakeDelivery(), ...over }) as HeldTask & { delivery: FakeDelivery };
    await storeQueued(repo, t);
    held.add(t);
    const ki = pool.reserve('echo')!;
    t.runs.set(ki, { gpus: [], reservation: null });
    return t;
  }

  it('assigns a fresh single-replica task at once and records its dispatch a little later, then acks its message', async () => {
    const t = await placed();
    const delivery = t.delivery;
    await recorder.dispatch(t);
    assert.deepEqual(commands.assigned, [{ taskId: t.spec.id, attempt: 1, kis: ['ki-1'] }]);
    assert.equal(t.claim?.state, 'deferred');
    assert.equal((await repo.get(t.spec.id))?.status, 'queued', 'not recorded yet');
    await until(() => delivery.settled, (s) => s === 'ack', 'the pending message acked');
    const row = await repo.get(t.spec.id);
    assert.deepEqual({ status: row?.status, attempts: row?.attempts, an: row?.an, ki: row?.ki }, { status: 'dispatched', attempts: 1, an: 'an-1', ki: 'ki-1' });
    assert.equal(t.claim, undefined);
  });

  it('records first a copy that must be (a redelivered message), acks it, then assigns', async () => {
    const t = await placed({ recordFirst: true });
    await recorder.dispatch(t);
    assert.equal(t.delivery, undefined);
    const row = await repo.get(t.spec.id);
    assert.deepEqual({ status: row?.status, attempts: row?.attempts }, { status: 'dispatched', attempts: 1 });
    assert.deepEqual(commands.assigned, [{ taskId: t.spec.id, attempt: 1, kis: ['ki-1'] }]);
  });

  it('drops, without assigning, a task whose row is no longer queued (finished meanwhile)', async () => {
    const t = await placed({ recordFirst: true });
    const delivery = t.delivery;
    await repo.applyTransitions([{ id: t.spec.id, name: 'dispatchAndSucceed', expectedAttempts: 0, outcome: { result: 1, error: null } }]);
    await recorder.dispatch(t);
    assert.equal(commands.assigned.length, 0);
    assert.equal(held.holds(t), false);
    assert.equal(delivery.settled, 'ack');
    assert.equal(pool.free, 2, 'its slot given back');
  });

  it('unassigns an unrecorded dispatch whose guard failed: the run is cancelled and the task waits to be recorded first', async () => {
    const t = await placed();
    await recorder.dispatch(t);
    await repo.applyTransitions([{ id: t.spec.id, name: 'cancel', expectedAttempts: 0 }]);
    await until(() => commands.cancelled, (c) => c.length > 0, 'the run cancelled');
    assert.deepEqual(commands.cancelled, [{ taskId: t.spec.id, ki: 'ki-1', reason: 'dispatch not recorded' }]);
    assert.equal(t.attempts, 0);
    assert.equal(t.recordFirst, true);
    assert.deepEqual(held.waiting.ordered(), [t]);
    assert.equal(t.delivery?.settled, undefined, 'the message stays unacked until a dispatch is recorded');
  });

  it('guards an outcome of an unrecorded dispatch by the queued row, so that one write records both', async () => {
    const t = await placed();
    await recorder.dispatch(t);
    const { guard, unrecorded } = await recorder.guardOf(t, 'succeed');
    assert.deepEqual(guard, { name: 'dispatchAndSucceed', expectedAttempts: 0, an: 'an-1', ki: 'ki-1' });
    assert.equal(unrecorded, 0);
    const recorded = await placed({ recordFirst: true });
    await recorder.dispatch(recorded);
    assert.deepEqual(await recorder.guardOf(recorded, 'succeed'), { guard: { name: 'succeed', expectedAttempts: 1 } });
  });

  it('names the combined transition of each outcome of an unrecorded dispatch', async () => {
    for (const [outcome, combined] of [['succeed', 'dispatchAndSucceed'], ['fail', 'dispatchAndFail'], ['retry', 'dispatchAndRetry']] as const) {
      const t = await placed();
      await recorder.dispatch(t);
      assert.equal((await recorder.guardOf(t, outcome)).guard.name, combined);
      held.releaseRuns(t); // its slot, for the next one
    }
  });

  it('takes over, as a new attempt, a task whose lease ran out under another An', async () => {
    const t = await placed({ recordFirst: true });
    // Another An dispatched it and stopped renewing: its lease is already over.
    await repo.applyTransitions([{ id: t.spec.id, name: 'dispatch', expectedAttempts: 0, an: 'an-dead', ki: 'ki-9', leaseMs: -1000 }]);
    await recorder.dispatch(t);
    const row = await repo.get(t.spec.id);
    assert.deepEqual({ status: row?.status, attempts: row?.attempts, an: row?.an, ki: row?.ki }, { status: 'dispatched', attempts: 2, an: 'an-1', ki: 'ki-1' });
    assert.deepEqual(commands.assigned, [{ taskId: t.spec.id, attempt: 2, kis: ['ki-1'] }]);
    const takeovers = (await metrics.tasksRetried.get()).values.find((v) => v.labels['reason'] === 'takeover')?.value;
    assert.equal(takeovers, 1);
  });

  it('fails, rather than takes over, a task whose lease ran out with its attempts used up', async () => {
    const t = await placed({ recordFirst: true, spec: { ...heldTask().spec, maxAttempts: 1 } });
    await repo.applyTransitions([{ id: t.spec.id, name: 'dispatch', expectedAttempts: 0, an: 'an-dead', ki: 'ki-9', leaseMs: -1000 }]);
    await recorder.dispatch(t);
    assert.deepEqual(finished.map((f) => [f.t, f.transition, f.code]), [[t, 'fail', 'ATTEMPTS_EXHAUSTED']]);
    assert.equal(t.attempts, 1);
    assert.equal(commands.assigned.length, 0);
    assert.equal(pool.free, 2, 'its slot given back');
  });
});
