import { strict as assert } from 'node:assert';
import type { Received } from '../../../src/transport';
import { AnHarness, until } from './an-harness';

/** The dead-letter copy of a failed task names it; it does not carry its payload or its output. */
describe('An: a failed task leaves a minimal note in the dead-letter queue', function () {
  this.timeout(60_000);
  let h: AnHarness;

  beforeEach(async () => {
    h = new AnHarness();
    await h.start();
  });

  afterEach(() => h.stop());

  it('sends task id, type, owner, attempts and error code, sealed, and neither payload nor error text', async () => {
    const principal = h.node('p1', 'principal');
    const ki1 = await h.ki('ki-1');
    const dead: Received[] = [];
    await h.bus('operator', 'principal').subscribe({ name: h.names.deadLetterQueue, kind: 'quorum' }, 16, ['task.failed', 'task.pending'], (r) => { r.delivery.ack(); dead.push(r); });
    const task = await h.submit(principal, { payload: { secret: 'payload-secret-123' }, maxAttempts: 1 });
    const item = await until(() => ki1.assigned.find((a) => a.task.id === task.id), (a) => a !== undefined, 'assignment to ki-1');
    await h.resultTo(ki1, 'ki-1', task.id, item!.attempt, { ok: false, error: { code: 'EXIT_3', message: 'stderr: output-secret-456', retryable: false } });

    const [note] = await until(() => dead, (d) => d.length > 0, 'a dead letter');
    assert.equal(note!.msg.type, 'task.failed');
    assert.equal(note!.msg.sender, 'an-1');
    const p = note!.msg.payload;
    assert.deepEqual({ ...p, failedAtMs: 0 }, { v: 1, taskId: task.id, type: 'echo', owner: 'alice', attempts: 1, code: 'EXIT_3', failedAtMs: 0 });
    assert.ok(!JSON.stringify(note!.msg.payload).includes('secret'));
    assert.equal((await h.repo.get(task.id))?.status, 'failed');
  });
});
