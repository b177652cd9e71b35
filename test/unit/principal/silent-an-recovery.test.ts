import { strict as assert } from 'node:assert';
import { silentLogger } from '../../../src/observability/logger';
import { SilentAnRecovery } from '../../../src/principal/silent-an-recovery';
import type { TaskRecord } from '../../../src/store/task-record';
import { queuedTaskRecord } from '../../helpers/task-record';
import { FakeLeadership, until } from './principal-harness';

const CHECK_AFTER_MS = 30;

/** An An's tasks in a fake store, a recovery over them, and the requeues it asks for. */
function setup() {
  const rows = new Map<string, TaskRecord>();
  const leadership = new FakeLeadership();
  const requeued: { an: string; ids: string[]; term: number }[] = [];
  let silent = true;
  const recovery = new SilentAnRecovery({
    repo: { findByAn: (an) => Promise.resolve([...rows.values()].filter((t) => t.an === an)) },
    sweeper: { requeueTasksOfAn: (an, tasks, fence) => { requeued.push({ an, ids: tasks.map((t) => t.id), term: fence.term }); return Promise.resolve(tasks.length); } },
    leadership, isSilent: () => silent, checkAfterMs: CHECK_AFTER_MS, log: silentLogger(),
  });
  const held = (an: string, leaseMs: number) => {
    const t = queuedTaskRecord({ status: 'running', attempts: 1, an, ki: 'ki-1', leaseExpiresAt: new Date(leaseMs) });
    rows.set(t.id, t);
    return t;
  };
  const renew = (an: string, leaseMs: number) => { for (const t of rows.values()) if (t.an === an) t.leaseExpiresAt = new Date(leaseMs); };
  const settle = () => new Promise((r) => setTimeout(r, CHECK_AFTER_MS * 3));
  return { recovery, leadership, requeued, held, renew, settle, setSilent: (v: boolean) => { silent = v; } };
}

describe('SilentAnRecovery: a silent An loses its tasks only once its leases show it stopped', () => {
  it('requeues the tasks of an An whose leases did not move since it fell silent, under the leader\'s fence', async () => {
    const { recovery, requeued, held } = setup();
    const a = held('an-1', 10_000);
    const b = held('an-1', 10_000);
    held('an-2', 10_000);
    await recovery.onSilent('an-1');
    assert.deepEqual(requeued, [], 'not at once: an An cut off from the broker renews within its period');
    await until(() => requeued.length, (n) => n === 1, 'requeue');
    assert.deepEqual(requeued, [{ an: 'an-1', ids: [a.id, b.id], term: 1 }]);
  });

  it('leaves its tasks with an An that still renews its leases: it is cut off from the broker, not dead', async () => {
    const { recovery, requeued, held, renew, settle } = setup();
    held('an-1', 10_000);
    await recovery.onSilent('an-1');
    renew('an-1', 15_000);
    await settle();
    assert.deepEqual(requeued, []);
  });

  it('leaves its tasks with an An that dispatched a new one meanwhile', async () => {
    const { recovery, requeued, held, settle } = setup();
    held('an-1', 10_000);
    await recovery.onSilent('an-1');
    held('an-1', 10_000);
    await settle();
    assert.deepEqual(requeued, []);
  });

  it('does nothing when the An is heard again, or this principal no longer leads, by the time it checks', async () => {
    const back = setup();
    back.held('an-1', 10_000);
    await back.recovery.onSilent('an-1');
    back.setSilent(false);
    await back.settle();
    assert.deepEqual(back.requeued, []);

    const deposed = setup();
    deposed.held('an-1', 10_000);
    await deposed.recovery.onSilent('an-1');
    deposed.leadership.leading = false;
    await deposed.settle();
    assert.deepEqual(deposed.requeued, []);
  });

  it('checks an An once however often it is reported, and nothing after stop', async () => {
    const { recovery, requeued, held, settle } = setup();
    held('an-1', 10_000);
    await Promise.all([recovery.onSilent('an-1'), recovery.onSilent('an-1')]);
    await settle();
    assert.equal(requeued.length, 1);
    await recovery.onSilent('an-1');
    recovery.stop();
    await settle();
    assert.equal(requeued.length, 1);
  });
});
