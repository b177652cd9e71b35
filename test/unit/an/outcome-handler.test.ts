import { strict as assert } from 'node:assert';
import { DispatchRecorder } from '../../../src/an/dispatch-recorder';
import type { HeldTasks } from '../../../src/an/held-tasks';
import type { HeldTask } from '../../../src/an/in-flight';
import type { KiPool } from '../../../src/an/ki-pool';
import { OutcomeHandler } from '../../../src/an/outcome-handler';
import { ReplicaVotes } from '../../../src/an/replica-votes';
import { silentLogger } from '../../../src/observability/logger';
import type { Metrics } from '../../../src/observability/metrics';
import type { TaskEvent } from '../../../src/protocol/messages';
import { topologyNames } from '../../../src/protocol/names';
import type { TaskRepository } from '../../../src/store/task-repository';
import { AN_DEFAULTS, fakeCommands, fakeDelivery, heldOnPool, heldTask, kiHeartbeat, pgliteStore, spec, storeQueued } from './parts-fixtures';

describe('OutcomeHandler: what the end of an attempt does to its task', function () {
  this.timeout(30_000);
  let store: Awaited<ReturnType<typeof pgliteStore>>;
  let repo: TaskRepository;
  let held: HeldTasks;
  let pool: KiPool;
  let recorder: DispatchRecorder;
  let outcomes: OutcomeHandler;
  let events: TaskEvent[];
  let sent: { type: string; payload: unknown }[];
  let metrics: Metrics;

  // One store for all: each test has its own tasks.
  // PGlite boots a WASM PostgreSQL: on a loaded machine that alone can take tens of seconds.
  before(async function () {
    this.timeout(180_000);
    store = await pgliteStore();
    repo = store.repo;
  });

  after(() => store.close());

  beforeEach(() => {
    ({ held, pool } = heldOnPool([kiHeartbeat('ki-1'), kiHeartbeat('ki-2')]));
    ({ metrics } = heldOnPool());
    const commands = fakeCommands();
    events = [];
    sent = [];
    const bus = { send: (_t: unknown, type: string, payload: unknown) => { sent.push({ type, payload }); return Promise.resolve(); } };
    const finish = (...args: Parameters<OutcomeHandler['finish']>) => outcomes.finish(...args);
    const { dispatchRecordDelayMs, dbRetryMs, minorityPenalty, quarantineAt } = AN_DEFAULTS;
    recorder = new DispatchRecorder({ nodeId: 'an-1', leaseMs: 30_000, dispatchRecordDelayMs, dbRetryMs, writer: store.writer, repo, held, commands, metrics, log: silentLogger(), finish });
    const votes = new ReplicaVotes({ minorityPenalty, quarantineAt, pool, reputation: { record: () => Promise.resolve([]), quarantined: () => Promise.resolve(new Set()) }, held, commands, log: silentLogger(), metrics, wake: () => undefined });
    outcomes = new OutcomeHandler({
      retry: { retryBaseMs: 10, retryMaxMs: 20 }, dbRetryMs, writer: store.writer, held, pool, recorder, votes, events: { add: (e) => { events.push(e); } },
      bus, names: topologyNames('unit'), metrics, log: silentLogger(),
    });
  });

  /** A queued task, held, placed on ki-1 and dispatched (recorded first unless `unrecorded`). */
  async function dispatched(over: Partial<HeldTask> = {}, unrecorded = false): Promise<HeldTask> {
    const t = heldTask({ delivery: fakeDelivery(), ...(unrecorded ? {} : { recordFirst: true }), ...over });
    await storeQueued(repo, t);
    held.add(t);
    const ki = pool.reserve('echo')!;
    t.runs.set(ki, { gpus: [], reservation: null });
    await recorder.dispatch(t);
    return t;
  }

  const report = (t: HeldTask, outcome: { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; retryable: boolean } }) =>
    ({ taskId: t.spec.id, attempt: t.attempts, ki: 'ki-1', startedAtMs: Date.now(), finishedAtMs: Date.now(), ...outcome });

  it('stores a success, frees the slot, lets the task go and tells the principals', async () => {
    const t = await dispatched();
    await outcomes.onResult(t, report(t, { ok: true, result: { answer: 42 } }));
    const row = await repo.get(t.spec.id);
    assert.deepEqual({ status: row?.status, result: row?.result, attempts: row?.attempts }, { status: 'succeeded', result: { answer: 42 }, attempts: 1 });
    assert.equal(held.holds(t), false);
    assert.equal(pool.free, 4);
    assert.deepEqual(events.map((e) => [e.taskId, e.status]), [[t.spec.id, 'succeeded']]);
  });

  it('splits the task\'s time into waiting (submit to start) and running (start to end of the attempt)', async () => {
    const t = await dispatched();
    const startedAtMs = t.spec.createdAtMs + 3000;
    await outcomes.onResult(t, { ...report(t, { ok: true, result: 1 }), startedAtMs, finishedAtMs: startedAtMs + 500 });
    const wait = (await metrics.taskQueueWait.get()).values;
    const run = (await metrics.taskRunTime.get()).values;
    assert.equal(wait.find((v) => v.metricName === 'anki_task_queue_wait_seconds_sum')?.value, 3);
    assert.equal(run.find((v) => v.metricName === 'anki_task_run_seconds_sum' && v.labels['status'] === 'succeeded')?.value, 0.5);
    assert.equal(run.find((v) => v.metricName === 'anki_task_run_seconds_count' && v.labels['status'] === 'succeeded')?.value, 1);
  });

  it('writes the dispatch and the outcome of an unrecorded dispatch in one row version', async () => {
    const t = await dispatched({}, true);
    assert.equal(t.claim?.state, 'deferred');
    await outcomes.onResult(t, report(t, { ok: true, result: 'done' }));
    const row = await repo.get(t.spec.id);
    assert.deepEqual({ status: row?.status, attempts: row?.attempts, an: row?.an }, { status: 'succeeded', attempts: 1, an: 'an-1' });
    assert.equal(t.delivery, undefined, 'its pending message acked');
  });

  it('schedules a retryable failure with attempts left for after its backoff, and lets the task go', async () => {
    const t = await dispatched();
    const before = Date.now();
    await outcomes.onResult(t, report(t, { ok: false, error: { code: 'EXIT_1', message: 'boom', retryable: true } }));
    const row = await repo.get(t.spec.id);
    assert.deepEqual({ status: row?.status, code: row?.error?.code, attempts: row?.attempts }, { status: 'scheduled', code: 'EXIT_1', attempts: 1 });
    // The backoff of the first retry: 10 ms, 30 % of it jittered, from the database's clock.
    assert.ok(row?.runAt, 'the row says when the retry is due');
    assert.ok(row.runAt.getTime() >= before + 7 - 50 && row.runAt.getTime() <= Date.now() + 10 + 50, `runAt ${row.runAt.toISOString()} is now + the backoff`);
    assert.equal(held.holds(t), false, 'no longer held here: the leader releases it when due');
    assert.equal(held.waiting.size, 0);
    assert.equal(pool.free, 4);
  });

  it('clears the An, the Ki and the lease of a task in retry backoff: the backoff survives this An', async () => {
    const t = await dispatched();
    await outcomes.onResult(t, report(t, { ok: false, error: { code: 'EXIT_1', message: 'boom', retryable: true } }));
    const row = await repo.get(t.spec.id);
    assert.equal(row?.status, 'scheduled');
    assert.equal(row?.an, null);
    assert.equal(row?.ki, null);
    assert.equal(row?.leaseExpiresAt, null, 'no lease: the lease sweep and the requeue of a dead An never see it');
  });

  it('writes an unrecorded dispatch and its retry in one row version, and acks the pending message', async () => {
    const t = await dispatched({}, true);
    const delivery = t.delivery as ReturnType<typeof fakeDelivery>;
    assert.equal(t.claim?.state, 'deferred');
    await outcomes.onResult(t, report(t, { ok: false, error: { code: 'EXIT_1', message: 'boom', retryable: true } }));
    const row = await repo.get(t.spec.id);
    assert.deepEqual({ status: row?.status, attempts: row?.attempts, an: row?.an, ki: row?.ki }, { status: 'scheduled', attempts: 1, an: null, ki: null });
    assert.equal(held.holds(t), false);
    assert.equal(delivery.settled, 'ack', 'the row holds the task now: its pending message is settled');
  });

  it('does not retry a TIMEOUT, even when the Ki reports it retryable: the code decides', async () => {
    const t = await dispatched();
    await outcomes.onResult(t, report(t, { ok: false, error: { code: 'TIMEOUT', message: 'ran past 60000 ms', retryable: true } }));
    const row = await repo.get(t.spec.id);
    assert.deepEqual({ status: row?.status, code: row?.error?.code, attempts: row?.attempts }, { status: 'failed', code: 'TIMEOUT', attempts: 1 });
    assert.equal(held.holds(t), false);
  });

  it('retries a KI_BUSY, even when the Ki reports it not retryable', async () => {
    const t = await dispatched();
    await outcomes.onResult(t, report(t, { ok: false, error: { code: 'KI_BUSY', message: 'no free slot', retryable: false } }));
    const row = await repo.get(t.spec.id);
    assert.deepEqual({ status: row?.status, code: row?.error?.code }, { status: 'scheduled', code: 'KI_BUSY' });
  });

  it('still fails a retryable code once its attempts are used up', async () => {
    const t = await dispatched({ spec: spec({ maxAttempts: 1 }) });
    await outcomes.onResult(t, report(t, { ok: false, error: { code: 'KI_BUSY', message: 'no free slot', retryable: true } }));
    assert.equal((await repo.get(t.spec.id))?.status, 'failed');
  });

  it('labels a retry by a closed code: a code a Ki made up counts as EXECUTOR_ERROR', async () => {
    const t = await dispatched();
    await outcomes.onResult(t, report(t, { ok: false, error: { code: 'MY_OWN_CODE', message: 'boom', retryable: true } }));
    assert.equal((await repo.get(t.spec.id))?.status, 'scheduled', 'retried: the table leaves EXECUTOR_ERROR to the reporter');
    const reasons = (await metrics.tasksRetried.get()).values.filter((v) => v.value > 0).map((v) => v.labels['reason']);
    assert.deepEqual(reasons, ['EXECUTOR_ERROR']);
  });

  it('fails a task whose Ki is lost on its last attempt, and leaves a note in the dead-letter queue', async () => {
    const t = await dispatched({ spec: spec({ maxAttempts: 1 }) });
    await outcomes.replicaLost(t, 'ki-1', { code: 'KI_LOST', message: 'ki ki-1 is dead', retryable: true });
    const row = await repo.get(t.spec.id);
    assert.deepEqual({ status: row?.status, code: row?.error?.code }, { status: 'failed', code: 'KI_LOST' });
    const note = sent.find((s) => s.type === 'task.failed');
    assert.deepEqual({ ...(note?.payload as object), failedAtMs: 0 }, { v: 1, taskId: t.spec.id, type: 'echo', owner: 'alice', attempts: 1, code: 'KI_LOST', failedAtMs: 0 });
  });

  it('ignores a lost replica that already reported', async () => {
    const t = await dispatched();
    t.runs.clear();
    await outcomes.replicaLost(t, 'ki-1', { code: 'KI_LOST', message: 'gone', retryable: true });
    assert.equal((await repo.get(t.spec.id))?.status, 'dispatched');
  });
});
