import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { BUILTIN_EXECUTORS } from '../../../src/ki/executors/builtins';
import { cancelRoute, kiInbox } from '../../../src/protocol/destinations';
import { topologyNames } from '../../../src/protocol/names';
import { startKiOnBus, until, type KiOnBus } from './ki-on-bus';

/**
 * A cancel names the attempt it stops: a late cancel for an earlier attempt (an An handing a
 * task back, a decided vote) must not stop the next attempt of the same task on the same Ki.
 * One Ki on the in-process bus; the test speaks for its An.
 */
describe('Ki: a cancel stops only the attempt it names', () => {
  const names = topologyNames('cancelattempt');
  let k: KiOnBus;
  before(async () => { k = await startKiOnBus(names, {}, { executors: BUILTIN_EXECUTORS }); });
  after(() => k?.stop());

  const cancel = (taskId: string, attempt: number) => k.an.send(cancelRoute(names, 'ki1'), 'task.cancel', { v: 1, taskId, reason: 'test', attempt });

  it('ignores a cancel of an earlier attempt and obeys the one of the running attempt', async () => {
    const taskId = randomUUID();
    const task = { id: taskId, type: 'sleep', payload: { ms: 60_000 }, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, timeoutMs: 120_000, maxAttempts: 3, owner: 'alice', createdAtMs: Date.now() };
    await k.an.send(kiInbox(names, 'ki1'), 'task.assign', { v: 1, an: 'an1', items: [{ task, attempt: 2, gpus: [] }] });
    await until(() => k.ki.busy === 1, 'the attempt runs');

    await cancel(taskId, 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(k.ki.busy, 1, 'a cancel of attempt 1 leaves attempt 2 running');
    assert.equal(k.results.length, 0);

    await cancel(taskId, 2);
    await until(() => k.results.length === 1, 'the cancelled attempt reports');
    assert.equal(k.results[0]!.attempt, 2);
    assert.equal(k.results[0]!.ok, false);
    assert.equal(k.ki.busy, 0);
  });
});
