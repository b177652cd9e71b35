import { strict as assert } from 'node:assert';
import { fakeDelivery, heldOnPool, heldTask, kiHeartbeat } from './parts-fixtures';

describe('HeldTasks: the tasks an An holds, shared by its parts', () => {
  it('finds a task only for its current attempt, and only for a Ki that runs it', () => {
    const { held } = heldOnPool();
    const t = heldTask({ attempts: 2, runs: new Map([['ki-1', { gpus: [], reservation: null }]]) });
    held.add(t);
    assert.equal(held.current(t.spec.id, 2), t);
    assert.equal(held.current(t.spec.id, 2, 'ki-1'), t);
    assert.equal(held.current(t.spec.id, 1), undefined, 'an older attempt');
    assert.equal(held.current(t.spec.id, 2, 'ki-2'), undefined, 'a Ki that does not run it');
  });

  it('drops a task: acks its pending message, frees its slots, forgets it and asks for a placement pass', () => {
    const { pool, held, wakes } = heldOnPool([kiHeartbeat('ki-1', { slots: { total: 1, busy: 0 } })]);
    const ki = pool.reserve('echo');
    assert.equal(pool.free, 0);
    const delivery = fakeDelivery();
    const t = heldTask({ delivery, runs: new Map([[ki!, { gpus: [], reservation: null }]]) });
    held.add(t);
    held.drop(t);
    assert.equal(delivery.settled, 'ack');
    assert.equal(pool.free, 1);
    assert.equal(held.holds(t), false);
    assert.equal(held.size, 0);
    assert.equal(wakes.n, 1);
  });

  it('puts a task back in the wait queue with a fresh wait time, and counts only placed tasks as in flight', async () => {
    const { held, metrics, wakes } = heldOnPool();
    const placed = heldTask();
    const waiting = heldTask({ sinceMs: 0 });
    held.add(placed);
    held.add(waiting);
    held.waitAgain(waiting);
    assert.ok(waiting.sinceMs > 0);
    assert.equal(held.waiting.size, 1);
    assert.equal(wakes.n, 1);
    held.updateInFlight();
    assert.equal(held.inFlight, 1);
    assert.equal((await metrics.tasksInFlight.get()).values[0]?.value, 1);
  });
});
