import { strict as assert } from 'node:assert';
import type { Transition } from '../../../src/store';
import { AnHarness, until, type FakeNode } from './an-harness';
import { anInbox } from '../../../src/protocol/destinations';

/**
 * A result the store cannot hold fails its own task with RESULT_UNSTORABLE and nothing else:
 * the other results of the same message and batch are stored, and the An keeps working.
 */
describe('An: a poison result fails its task, not the batch', function () {
  this.timeout(60_000);
  let h: AnHarness;
  let principal: FakeNode;
  let ki1: Awaited<ReturnType<AnHarness['ki']>>;

  beforeEach(async () => {
    h = new AnHarness();
    await h.start();
    principal = h.node('p1', 'principal');
    ki1 = await h.ki('ki-1');
  });

  afterEach(() => h.stop());

  async function assignedBatch(n: number): Promise<{ id: string; attempt: number }[]> {
    const tasks: { id: string }[] = [];
    for (let i = 0; i < n; i++) tasks.push(await h.submit(principal));
    const items = await until(() => tasks.map((t) => ki1.assigned.find((a) => a.task.id === t.id)), (a) => a.every(Boolean), `${n} assignments`);
    return items.map((a) => ({ id: a!.task.id, attempt: a!.attempt }));
  }

  async function reportAll(runs: { id: string; attempt: number }[], resultOf: (i: number) => unknown): Promise<void> {
    const now = Date.now();
    await ki1.send(anInbox(h.names, 'an-1'), 'task.result', { v: 1, ki: 'ki-1', items: runs.map((r, i) => ({ taskId: r.id, attempt: r.attempt, startedAtMs: now, finishedAtMs: now, ok: true, result: resultOf(i) })) });
  }

  it('fails a result holding U+0000 or a lone surrogate with RESULT_UNSTORABLE, and stores the others of its message', async () => {
    const runs = await assignedBatch(4);
    await reportAll(runs, (i) => (i === 1 ? { out: 'a\u0000b' } : i === 2 ? { ['\udc00']: 1 } : { i }));
    const rows = await until(() => Promise.all(runs.map((r) => h.repo.get(r.id))), (rs) => rs.every((r) => r?.status === 'succeeded' || r?.status === 'failed'), 'all four finished');
    assert.deepEqual(rows.map((r) => r?.status), ['succeeded', 'failed', 'failed', 'succeeded']);
    for (const bad of [rows[1], rows[2]]) assert.deepEqual({ code: bad?.error?.code, retryable: bad?.error?.retryable, attempts: bad?.attempts }, { code: 'RESULT_UNSTORABLE', retryable: false, attempts: 1 });
    assert.deepEqual(rows[3]?.result, { i: 3 });
  });

  it('fails the task whose row the store refuses anyway (a data error), instead of retrying the write forever', async () => {
    // A value the check lets through but the store refuses: the batch is split and that row fails alone.
    const apply = h.repo.applyTransitions.bind(h.repo);
    h.repo.applyTransitions = async (list: readonly Transition[], fence) => {
      if (list.some((t) => JSON.stringify(t.outcome?.result ?? null).includes('store-refuses-this'))) throw Object.assign(new Error('value refused'), { code: '22023' });
      return apply(list, fence);
    };
    const runs = await assignedBatch(3);
    await reportAll(runs, (i) => (i === 0 ? 'store-refuses-this' : `fine ${i}`));
    const rows = await until(() => Promise.all(runs.map((r) => h.repo.get(r.id))), (rs) => rs.every((r) => r?.status === 'succeeded' || r?.status === 'failed'), 'all three finished');
    assert.deepEqual(rows.map((r) => r?.status), ['failed', 'succeeded', 'succeeded']);
    assert.equal(rows[0]?.error?.code, 'RESULT_UNSTORABLE');
    assert.equal(rows[0]?.error?.message, 'the task store refused the result of the attempt');
  });
});
