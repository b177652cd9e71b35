import { strict as assert } from 'node:assert';
import { LeaseKeeper } from '../../../src/an/lease-keeper';
import { fakeDelivery, heldOnPool, heldTask } from './parts-fixtures';

describe('LeaseKeeper: the leases of dispatched tasks stay fresh', () => {
  it('renews the tasks placed on a Ki or already recorded, not those still waiting on their pending message', async () => {
    const { held } = heldOnPool();
    const running = heldTask({ runs: new Map([['ki-1', { gpus: [], reservation: null }]]) });
    const recordedWaiting = heldTask();
    const unrecordedWaiting = heldTask({ delivery: fakeDelivery() });
    for (const t of [running, recordedWaiting, unrecordedWaiting]) held.add(t);
    const calls: [string, string[], number][] = [];
    const keeper = new LeaseKeeper({ nodeId: 'an-1', leaseMs: 9000, held, repo: { renewLeases: (an, ids, ms) => { calls.push([an, [...ids], ms]); return Promise.resolve(ids.length); } } });
    await keeper.renew();
    assert.deepEqual(calls, [['an-1', [running.spec.id, recordedWaiting.spec.id], 9000]]);
    assert.equal(keeper.periodMs, 3000);
  });

  it('asks nothing of the store when it holds no task', async () => {
    const { held } = heldOnPool();
    let called = false;
    const keeper = new LeaseKeeper({ nodeId: 'an-1', leaseMs: 300, held, repo: { renewLeases: () => { called = true; return Promise.resolve(0); } } });
    await keeper.renew();
    assert.equal(called, false);
    assert.equal(keeper.periodMs, 200, 'never more often than every 200 ms');
  });

  it('keeps renewing through a broker outage shorter than the lease, then lets the leases run out for the leader to take back', async () => {
    const { held } = heldOnPool();
    held.add(heldTask());
    let deafForMs = 0;
    let renewals = 0;
    const keeper = new LeaseKeeper({ nodeId: 'an-1', leaseMs: 9000, held, deafForMs: () => deafForMs, repo: { renewLeases: (_an, ids) => { renewals++; return Promise.resolve(ids.length); } } });
    deafForMs = 8999;
    await keeper.renew();
    assert.equal(renewals, 1, 'its Kis still run the tasks, and their results wait in its inbox');
    deafForMs = 9000;
    await keeper.renew();
    assert.equal(renewals, 1);
    deafForMs = 0;
    await keeper.renew();
    assert.equal(renewals, 2);
  });
});
