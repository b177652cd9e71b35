import { strict as assert } from 'node:assert';
import { TaskAdmission } from '../../../src/principal/admission';
import { TAKE_LEASE_SQL } from '../../../src/principal/db-lease-leadership';
import { ScheduledRelease } from '../../../src/principal/scheduled-release';
import type { MessageOf } from '../../../src/protocol/messages';
import type { LeaderFence } from '../../../src/store';
import type { TaskRecord } from '../../../src/store/task-record';
import type { Received } from '../../../src/transport';
import { PrincipalHarness, queuedTask, until } from './principal-harness';

describe('ScheduledRelease: the leader queues scheduled tasks when they are due', () => {
  let h: PrincipalHarness;
  let admission: TaskAdmission;
  let release: ScheduledRelease;
  let fence: LeaderFence;
  /** What reached the pending queues: task id and attempts. */
  let pending: { id: string; attempts: number }[];

  beforeEach(async () => {
    h = new PrincipalHarness();
    await h.start();
    admission = new TaskAdmission({ config: h.config, repo: h.repo, bus: h.bus('p1', 'principal', h.metrics), names: h.names, metrics: h.metrics, log: h.log });
    release = new ScheduledRelease({ repo: h.repo, admission, metrics: h.metrics, log: h.log });
    const term = (await h.db.query<{ term: number }>(TAKE_LEASE_SQL, ['principal', 'p1', 60_000])).rows[0]!.term;
    fence = { holder: 'p1', term: Number(term) };
    pending = [];
    const an = h.bus('an-9', 'an');
    for (const queue of h.names.pendingBands) {
      await an.subscribe({ name: queue, kind: 'durable' }, 64, ['task.pending'], ({ msg, delivery }: Received) => {
        delivery.ack();
        pending.push(...(msg.payload as MessageOf<'task.pending'>).items.map((i) => ({ id: i.task.id, attempts: i.attempts })));
      });
    }
  });

  afterEach(async () => {
    await admission.drain().catch(() => undefined);
    await h.stop();
  });

  async function scheduled(inMs: number, over: Partial<TaskRecord> = {}): Promise<TaskRecord> {
    const t = queuedTask({ status: 'scheduled', runAt: new Date(Date.now() + inMs), ...over });
    await h.repo.insertMany([t]);
    return t;
  }

  const lateness = async () => (await h.metrics.taskReleaseLateness.get()).values.find((v) => v.metricName === 'anki_task_release_lateness_seconds_count')?.value ?? 0;

  it('queues and publishes the due tasks, with the attempts they have, and leaves the others', async () => {
    const due = await scheduled(-500);
    const retry = await scheduled(-100, { attempts: 2 });
    const ahead = await scheduled(60_000);
    assert.equal(await release.releaseDue(fence), 2);
    assert.equal((await h.repo.get(due.id))?.status, 'queued');
    assert.equal((await h.repo.get(ahead.id))?.status, 'scheduled');
    await until(() => pending, (p) => p.length === 2, 'two pending messages');
    assert.deepEqual(pending.sort((a, b) => a.attempts - b.attempts), [{ id: due.id, attempts: 0 }, { id: retry.id, attempts: 2 }]);
    assert.equal(await lateness(), 2);
    assert.equal(await release.releaseDue(fence), 0, 'nothing due twice');
  });

  it('releases nothing under a fence that is no longer the live leader lease', async () => {
    const due = await scheduled(-500);
    assert.equal(await release.releaseDue({ holder: 'p1', term: fence.term + 1 }), 0);
    assert.equal((await h.repo.get(due.id))?.status, 'scheduled');
    await admission.drain();
    assert.deepEqual(pending, []);
    assert.equal(await lateness(), 0);
  });

  it('reports the scheduled backlog as leader, and 0 otherwise', async () => {
    await scheduled(60_000);
    await scheduled(60_000);
    await release.reportBacklog(true);
    assert.equal((await h.metrics.tasksScheduled.get()).values[0]?.value, 2);
    await release.reportBacklog(false);
    assert.equal((await h.metrics.tasksScheduled.get()).values[0]?.value, 0);
  });
});
