import { strict as assert } from 'node:assert';
import type { Heartbeat } from '../../../src/cluster/membership';
import type { FinishTask, HeldTask } from '../../../src/an/in-flight';
import { Placer } from '../../../src/an/placer';
import { silentLogger } from '../../../src/observability/logger';
import type { PendingItem } from '../../../src/protocol/messages';
import { until } from './an-harness';
import { fakeDelivery, heldOnPool, heldTask, kiHeartbeat, spec } from './parts-fixtures';

/** A placer over a real pool of `kis`; dispatches, failures and hand-ons are recorded. */
function placerOver(kis: Heartbeat[], clusterKis: Heartbeat[] = kis, draining = false) {
  const { pool, held } = heldOnPool(kis);
  const dispatched: HeldTask[] = [];
  const failed: { t: HeldTask; code: string | undefined; message: string | undefined; transition: string }[] = [];
  const republished: PendingItem[] = [];
  const finish: FinishTask = (t, transition, outcome) => { failed.push({ t, code: outcome.error?.code, message: outcome.error?.message, transition }); return Promise.resolve(); };
  const placer = new Placer({
    held, pool, clusterKis: () => clusterKis, isDraining: () => draining, onWaitingShrunk: () => undefined,
    dispatch: (t) => { dispatched.push(t); return Promise.resolve(); }, finish,
    republish: (item) => { republished.push(item); return Promise.resolve(); }, log: silentLogger(),
  });
  const wait = (t: HeldTask) => { held.add(t); held.waiting.push(t); return t; };
  return { placer, pool, held, dispatched, failed, republished, wait };
}

describe('Placer: which waiting task goes to which Ki', () => {
  it('places the highest priority first while the group has free slots, and leaves the rest waiting', () => {
    const { placer, held, dispatched, wait } = placerOver([kiHeartbeat('ki-1', { slots: { total: 1, busy: 0 } })]);
    const low = wait(heldTask({ spec: spec({ priority: 1 }) }));
    const high = wait(heldTask({ spec: spec({ priority: 8 }) }));
    placer.pump();
    assert.deepEqual(dispatched, [high]);
    assert.deepEqual([...high.runs.keys()], ['ki-1']);
    assert.deepEqual(held.waiting.ordered(), [low]);
  });

  it('places every replica of a redundant task on a distinct Ki, or none', () => {
    const { placer, pool, dispatched, wait } = placerOver([kiHeartbeat('ki-1'), kiHeartbeat('ki-2')]);
    const two = wait(heldTask({ spec: spec({ redundancy: { replicas: 2, quorum: 2 } }) }));
    placer.pump();
    assert.deepEqual(dispatched, [two]);
    assert.deepEqual([...two.runs.keys()].sort(), ['ki-1', 'ki-2']);
    assert.equal(pool.free, 2);
  });

  it('fails at once, from queued, a task no Ki of the cluster could ever run, saying why', async () => {
    const { placer, held, failed, wait } = placerOver([kiHeartbeat('ki-1')]);
    const t = wait(heldTask({ spec: spec({ type: 'nobody-runs-this' }) }));
    placer.pump();
    await new Promise((r) => setImmediate(r));
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.t, t);
    assert.equal(failed[0]!.code, 'UNSATISFIABLE');
    assert.match(failed[0]!.message!, /no Ki runs task type "nobody-runs-this"/);
    assert.equal(failed[0]!.transition, 'failUnplaceable');
    assert.equal(held.waiting.size, 0);
  });

  it('fails a redundant task that needs more distinct Kis than the cluster has', async () => {
    const { placer, failed, wait } = placerOver([kiHeartbeat('ki-1')]);
    wait(heldTask({ spec: spec({ redundancy: { replicas: 3, quorum: 2 } }) }));
    placer.pump();
    await new Promise((r) => setImmediate(r));
    assert.match(failed[0]?.message ?? '', /redundancy needs 3 distinct Kis; the cluster has 1/);
  });

  it('hands on a task that only a Ki of another group runs: republished with one more hop, then its message acked', async () => {
    const other = kiHeartbeat('ki-9', { group: 'g2', types: ['render'] });
    const { placer, held, republished, wait } = placerOver([kiHeartbeat('ki-1')], [kiHeartbeat('ki-1'), other]);
    const delivery = fakeDelivery();
    const t = wait(heldTask({ spec: spec({ type: 'render' }), delivery, hops: 2 }));
    placer.pump();
    assert.equal(held.holds(t), false, 'let go before the send');
    await until(() => delivery.settled, (s) => s !== undefined, 'the original message settled');
    assert.deepEqual(republished.map((i) => [i.task.id, i.hops]), [[t.spec.id, 3]]);
    assert.equal(delivery.settled, 'ack');
  });

  it('places nothing while the An drains', () => {
    const { placer, dispatched, wait } = placerOver([kiHeartbeat('ki-1')], undefined, true);
    wait(heldTask());
    placer.pump();
    assert.equal(dispatched.length, 0);
  });
});
