import { strict as assert } from 'node:assert';
import { AdmissionMap } from '../../../src/store/admission-map';
import { TaskControl } from '../../../src/principal/task-control';
import type { MessageOf } from '../../../src/protocol/messages';
import type { TaskRecord } from '../../../src/store/task-record';
import type { Received } from '../../../src/transport';
import { PrincipalHarness, queuedTask, until } from './principal-harness';

describe('TaskControl: REST callers cancel and delete tasks', () => {
  let h: PrincipalHarness;
  let map: AdmissionMap;
  let control: TaskControl;
  /** `task.cancel` messages each Ki received. */
  let cancels: { ki: string; payload: MessageOf<'task.cancel'> }[];
  /** Events of cancelled tasks, as a principal's listeners hear them. */
  let events: MessageOf<'task.event'>['events'];

  beforeEach(async () => {
    h = new PrincipalHarness();
    await h.start();
    map = new AdmissionMap(1000);
    control = new TaskControl({ repo: h.repo, bus: h.bus('p1', 'principal', h.metrics), names: h.names, map, metrics: h.metrics, log: h.log });
    cancels = [];
    events = [];
    for (const ki of ['ki-1', 'ki-2']) {
      await h.bus(ki, 'ki').subscribe({ name: `${h.names.control}.${ki}`, kind: 'transient', bindings: [{ exchange: h.names.control, pattern: h.names.rk.cancel(ki) }] }, 16, ['task.cancel'],
        ({ msg, delivery }: Received) => { delivery.ack(); cancels.push({ ki, payload: msg.payload as MessageOf<'task.cancel'> }); });
    }
    await h.bus('p2', 'principal').subscribe({ name: `${h.names.control}.events`, kind: 'transient', bindings: [{ exchange: h.names.control, pattern: h.names.rk.event('cancelled') }] }, 16, ['task.event'],
      ({ msg, delivery }: Received) => { delivery.ack(); events.push(...(msg.payload as MessageOf<'task.event'>).events); });
  });

  afterEach(() => h.stop());

  /** Stores `t`, admitted; dispatched to `ki` (attempt 1) and running when asked. */
  async function stored(over: Partial<TaskRecord> = {}, run?: { ki: string; running?: boolean }): Promise<TaskRecord> {
    const t = queuedTask(over);
    await map.admit([{ id: t.id, owner: t.owner, createdAtMs: t.createdAt.getTime() }], () => h.repo.insertMany([t]));
    if (run) {
      const [d] = await h.repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: t.attempts, an: 'an-1', ki: run.ki, leaseMs: 60_000 }]);
      if (run.running) await h.repo.applyTransitions([{ id: t.id, name: 'start', expectedAttempts: d!.attempts, startedAt: new Date() }]);
    }
    return (await h.repo.get(t.id))!;
  }

  const cancelledCount = async () => (await h.metrics.tasksFinished.get()).values.find((v) => v.labels['status'] === 'cancelled')?.value ?? 0;

  it('cancels a queued task: stored as cancelled with the reason, released from admission, counted and announced, no Ki told', async () => {
    const t = await stored();
    const after = await control.cancel(t, 'no longer needed');
    assert.equal(after.status, 'cancelled');
    assert.deepEqual(after.error, { code: 'CANCELLED', message: 'no longer needed', retryable: false });
    assert.equal((await h.repo.get(t.id))?.status, 'cancelled');
    assert.equal(map.has(t.id), false);
    assert.equal(await cancelledCount(), 1);
    await until(() => events, (e) => e.length > 0, 'the cancelled event');
    assert.deepEqual(events.map((e) => [e.taskId, e.status, e.owner]), [[t.id, 'cancelled', 'alice']]);
    assert.deepEqual(cancels, []);
  });

  it('cancels a running task and tells its Ki to stop that attempt', async () => {
    const t = await stored({}, { ki: 'ki-1', running: true });
    const after = await control.cancel(t, 'stop it');
    assert.equal(after.status, 'cancelled');
    await until(() => cancels, (c) => c.length > 0, 'the task.cancel');
    assert.deepEqual(cancels.map((c) => [c.ki, c.payload.taskId, c.payload.attempt, c.payload.reason]), [['ki-1', t.id, 1, 'stop it']]);
  });

  it('tells every Ki of a redundant dispatch to stop', async () => {
    const t = await stored({ redundancy: { replicas: 2, quorum: 2 } }, { ki: 'ki-1,ki-2' });
    await control.cancel(t, 'stop all');
    await until(() => cancels, (c) => c.length === 2, 'both task.cancel messages');
    assert.deepEqual(cancels.map((c) => [c.ki, c.payload.attempt]).sort(), [['ki-1', 1], ['ki-2', 1]]);
  });

  it('returns a finished task as it is: nothing stored, counted or sent', async () => {
    const t = await stored();
    const [done] = await h.repo.applyTransitions([{ id: t.id, name: 'dispatch', expectedAttempts: 0, an: 'an-1', ki: 'ki-1', leaseMs: 60_000 }]);
    await h.repo.applyTransitions([{ id: t.id, name: 'succeed', expectedAttempts: done!.attempts, leaseMs: null, outcome: { result: 42, error: null }, finishedAt: new Date() }]);
    const finished = (await h.repo.get(t.id))!;
    const after = await control.cancel(finished, 'too late');
    assert.equal(after, finished);
    assert.equal((await h.repo.get(t.id))?.status, 'succeeded');
    assert.equal(await cancelledCount(), 0);
    assert.deepEqual(cancels, []);
  });

  it('answers with the stored task when it finished after the caller read it', async () => {
    const t = await stored();
    await h.repo.cancel(t.id, 'cancelled elsewhere');
    const after = await control.cancel(t, 'again');
    assert.equal(after.status, 'cancelled');
    assert.equal(after.error?.message, 'cancelled elsewhere');
    assert.equal(await cancelledCount(), 0, 'counted once, by whoever cancelled it');
  });

  it('deletes a task, cancelling it on its Ki first when it still runs', async () => {
    const running = await stored({}, { ki: 'ki-2', running: true });
    await control.remove(running, 'deleted by its owner');
    assert.equal(await h.repo.get(running.id), undefined);
    assert.equal(map.has(running.id), false);
    await until(() => cancels, (c) => c.length > 0, 'the task.cancel');
    assert.deepEqual(cancels.map((c) => [c.ki, c.payload.taskId]), [['ki-2', running.id]]);
  });

  it('deletes a finished task without telling anyone', async () => {
    const t = await stored();
    await h.repo.cancel(t.id, 'earlier');
    const finished = (await h.repo.get(t.id))!;
    await control.remove(finished, 'clean up');
    assert.equal(await h.repo.get(t.id), undefined);
    assert.equal(map.has(t.id), false);
    assert.deepEqual(cancels, []);
  });
});
