import { strict as assert } from 'node:assert';
import { OverloadedError } from '../../../src/errors';
import { TaskAdmission } from '../../../src/principal/admission';
import type { MessageOf } from '../../../src/protocol/messages';
import type { Received } from '../../../src/transport';
import { PrincipalHarness, until } from './principal-harness';

describe('TaskAdmission', () => {
  let h: PrincipalHarness;
  let admission: TaskAdmission;
  /** Task ids the pending queues delivered, as an An would receive them. */
  let pending: string[];

  async function setUp(env: Record<string, string> = {}): Promise<void> {
    h = new PrincipalHarness(env);
    await h.start();
    admission = new TaskAdmission({ config: h.config, repo: h.repo, bus: h.bus('p1', 'principal', h.metrics), names: h.names, metrics: h.metrics, log: h.log });
    pending = [];
    const an = h.bus('an-1', 'an');
    for (const queue of h.names.pendingBands) {
      await an.subscribe({ name: queue, kind: 'durable' }, 16, ['task.pending'], ({ msg, delivery }: Received) => {
        delivery.ack();
        pending.push(...(msg.payload as MessageOf<'task.pending'>).items.map((i) => i.task.id));
      });
    }
  }

  afterEach(async () => {
    await admission?.drain().catch(() => undefined);
    await h?.stop();
  });

  it('stores a submission, holds it as admitted and publishes it to the pending queue of its priority', async () => {
    await setUp();
    const task = admission.build({ type: 'echo', payload: { n: 1 }, priority: 7 }, 'alice');
    const { ids, created } = await admission.submit([task]);
    assert.deepEqual(ids, [task.id]);
    assert.equal(created, true);
    assert.equal((await h.repo.get(task.id))?.status, 'queued');
    assert.equal(admission.map.size, 1);
    await until(() => pending, (p) => p.includes(task.id), 'the pending message');
  });

  it('stores a task due later as scheduled, publishes nothing and holds no admission capacity for it', async () => {
    await setUp();
    const later = admission.build({ type: 'echo' }, 'alice', undefined, new Date(Date.now() + 60_000));
    const due = admission.build({ type: 'echo' }, 'alice', undefined, new Date(Date.now() - 1000));
    await admission.submit([later, due]);
    assert.equal((await h.repo.get(later.id))?.status, 'scheduled');
    assert.equal((await h.repo.get(later.id))?.runAt?.getTime(), later.runAt?.getTime());
    assert.equal((await h.repo.get(due.id))?.status, 'queued', 'a runAt in the past is due at once');
    assert.equal(admission.map.has(later.id), false);
    assert.equal(admission.map.has(due.id), true);
    await until(() => pending, (p) => p.includes(due.id), 'the pending message of the due task');
    await admission.drain();
    assert.equal(pending.includes(later.id), false, 'the scheduled task waits for the leader\'s release');
  });

  it('applies the configured defaults to what a submission leaves out', async () => {
    await setUp({ TASK_DEFAULT_PRIORITY: '3' });
    const t = admission.build({}, 'bob');
    assert.equal(t.owner, 'bob');
    assert.equal(t.type, h.config.tasks.defaultType);
    assert.equal(t.priority, 3);
    assert.equal(t.maxAttempts, h.config.tasks.defaultMaxAttempts);
    assert.equal(t.payload, null);
    assert.deepEqual(admission.build({ task_data: [1] }, 'bob').payload, [1], 'task_data is an alias of payload');
  });

  it('returns the earlier ids, and stores nothing new, when an idempotency key is used again by the same owner', async () => {
    await setUp();
    const first = await admission.submit([admission.build({ type: 'echo' }, 'alice')], 'key-1');
    const again = await admission.submit([admission.build({ type: 'echo' }, 'alice')], 'key-1');
    assert.equal(again.created, false);
    assert.deepEqual(again.ids, first.ids);
    assert.equal(admission.map.size, 1, 'the repeated submission holds no admission slot');
  });

  it('answers overloaded, storing nothing, when the submission would pass the in-flight write limit', async () => {
    await setUp({ PRINCIPAL_MAX_IN_FLIGHT_WRITES: '2' });
    const tasks = [1, 2, 3].map(() => admission.build({ type: 'echo' }, 'alice'));
    await assert.rejects(admission.submit(tasks), OverloadedError);
    assert.equal(await h.repo.get(tasks[0]!.id), undefined);
  });

  it('marks a confirmed publish in the store only once it is older than the mark delay', async () => {
    await setUp({ PRINCIPAL_PUBLISH_MARK_AFTER_MS: '3600000' });
    const task = admission.build({ type: 'echo' }, 'alice');
    await admission.submit([task]);
    await until(() => pending, (p) => p.includes(task.id), 'the pending message');
    await admission.markConfirmed();
    const unmarked = await h.repo.findUnpublished(0, 10);
    assert.ok(unmarked.some((t) => t.id === task.id), 'younger than the configured delay: not marked yet');
    await admission.markConfirmed(0);
    assert.equal((await h.repo.findUnpublished(0, 10)).some((t) => t.id === task.id), false);
  });

  it('does not mark a task published by the confirm of a message its An has consumed, once the leader took the task back', async () => {
    await setUp();
    const task = admission.build({ type: 'echo' }, 'alice');
    await admission.submit([task]);
    await until(() => pending, (p) => p.includes(task.id), 'the pending message');
    // An An dispatched it, then the leader took it back (the An was lost) and its new publish failed.
    await h.repo.applyTransitions([{ id: task.id, name: 'dispatch', expectedAttempts: 0, an: 'an-1', ki: 'ki-1', leaseMs: 5000 }]);
    await h.repo.applyTransitions([{ id: task.id, name: 'requeueLost', expectedAttempts: 1, an: null, ki: null, leaseMs: null, clearPublished: true }]);
    await admission.markConfirmed(0);
    assert.ok((await h.repo.findUnpublished(0, 10)).some((t) => t.id === task.id), 'still unpublished: the sweeper sends it again');
  });
});
