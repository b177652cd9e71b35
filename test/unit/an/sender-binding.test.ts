import { strict as assert } from 'node:assert';
import { AnHarness, rejected, until, type FakeNode } from './an-harness';
import { anInbox, heartbeatRoute } from '../../../src/protocol/destinations';

/**
 * A Ki reports only for itself: a result, a start, a progress report or a heartbeat that names
 * another Ki is refused before the ack, dead-lettered and counted (reason `sender`), and the real
 * Ki's report still decides the task.
 */
describe('An: reports and heartbeats are bound to the verified sender', function () {
  this.timeout(60_000);
  let h: AnHarness;
  let principal: FakeNode;
  let ki1: Awaited<ReturnType<AnHarness['ki']>>;
  let ki2: Awaited<ReturnType<AnHarness['ki']>>;

  beforeEach(async () => {
    h = new AnHarness();
    await h.start();
    principal = h.node('p1', 'principal');
    ki1 = await h.ki('ki-1');
    // ki-2 is a Ki of the cluster in its own right (another group: it gets no work here).
    ki2 = await h.ki('ki-2');
    await ki2.send(heartbeatRoute(h.names, 'ki', 'ki-2'), 'node.heartbeat', h.heartbeat('ki-2', { group: 'elsewhere' }));
  });

  afterEach(() => h.stop());

  /** Submits a task and waits until the An assigned it to ki-1. */
  async function runningOnKi1(): Promise<{ id: string; attempt: number }> {
    const task = await h.submit(principal);
    const item = await until(() => ki1.assigned.find((a) => a.task.id === task.id), (a) => a !== undefined, 'assignment to ki-1');
    return { id: task.id, attempt: item!.attempt };
  }

  it('refuses a task.result that names another Ki, counts it, and the real result wins', async () => {
    const { id, attempt } = await runningOnKi1();
    await h.resultTo(ki2, 'ki-1', id, attempt, { ok: true, result: 'forged' });
    await until(() => rejected(h.anMetrics, 'sender'), (n) => n >= 1, 'the forged result refused');
    assert.equal((await h.repo.get(id))?.status !== 'succeeded', true, 'the forged result finished nothing');
    await h.resultTo(ki1, 'ki-1', id, attempt, { ok: true, result: 'real' });
    const row = await until(() => h.repo.get(id), (r) => r?.status === 'succeeded', 'the task succeeded');
    assert.equal(row?.result, 'real');
  });

  it('refuses a task.started that names another Ki', async () => {
    const { id, attempt } = await runningOnKi1();
    await ki2.send(anInbox(h.names, 'an-1'), 'task.started', { v: 1, taskId: id, attempt, ki: 'ki-1', startedAtMs: Date.now() });
    await until(() => rejected(h.anMetrics, 'sender'), (n) => n >= 1, 'the forged start refused');
    await h.resultTo(ki1, 'ki-1', id, attempt, { ok: true, result: 'real' });
    await until(() => h.repo.get(id), (r) => r?.status === 'succeeded', 'the task succeeded');
  });

  it('refuses a heartbeat that says another Ki is leaving, so its task is not taken from it', async () => {
    const { id, attempt } = await runningOnKi1();
    await ki2.send(heartbeatRoute(h.names, 'ki', 'ki-1'), 'node.heartbeat', h.heartbeat('ki-1', { status: 'leaving' }));
    await until(() => rejected(h.anMetrics, 'sender'), (n) => n >= 1, 'the forged heartbeat refused');
    await h.resultTo(ki1, 'ki-1', id, attempt, { ok: true, result: 'real' });
    const row = await until(() => h.repo.get(id), (r) => r?.status === 'succeeded', 'the task succeeded');
    assert.equal(row?.attempts, attempt, 'no retry: ki-1 was never taken for lost');
    assert.equal((await h.anMetrics.tasksRetried.get()).values.find((v) => v.labels['reason'] === 'KI_LOST')?.value ?? 0, 0);
  });

  it('stores progress only from the Ki that runs the attempt', async () => {
    const saved: string[] = [];
    const save = h.repo.saveProgress.bind(h.repo);
    h.repo.saveProgress = async (items) => { for (const i of items) saved.push(i.progress.message ?? ''); return save(items); };
    const { id, attempt } = await runningOnKi1();
    await ki2.send(anInbox(h.names, 'an-1'), 'task.progress', { v: 1, taskId: id, attempt, fraction: 0.9, message: 'from ki-2' });
    await ki1.send(anInbox(h.names, 'an-1'), 'task.progress', { v: 1, taskId: id, attempt, fraction: 0.1, message: 'from ki-1' });
    await until(() => saved, (s) => s.includes('from ki-1'), 'ki-1 progress stored');
    assert.deepEqual(saved, ['from ki-1']);
  });
});
