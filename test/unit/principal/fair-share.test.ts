import { strict as assert } from 'node:assert';
import { DeficitRoundRobin, publishNowCount, roomOf, shareOf, type TenantLoad } from '../../../src/principal/fair-share';
import { periodAround } from '../../../src/principal/gpu-period';

const load = (name: string, over: Partial<TenantLoad> = {}): TenantLoad => ({ name, weight: 1, inBroker: 0, held: 0, running: 0, maxRunning: null, ...over });

describe('fair share of the publish window', () => {
  it('gives a tenant alone the whole window, and splits it by weight among tenants with waiting work', () => {
    assert.equal(shareOf(load('a'), [load('a')], 100), 100);
    const all = [load('a', { held: 5000, inBroker: 100 }), load('b', { weight: 3, held: 10 }), load('idle', { weight: 50 })];
    assert.equal(shareOf(all[0]!, all, 100), 25);
    assert.equal(shareOf(all[1]!, all, 100), 75);
    assert.equal(shareOf(load('new'), all, 100), 20, 'a newcomer counts itself in');
  });

  it('publishes a newcomer\'s tasks at once up to its share, while a backlogged tenant holds all new ones', () => {
    const a = load('a', { inBroker: 100, held: 5000 });
    const all = [a];
    assert.equal(publishNowCount(load('b'), all, 100, 500), 50, 'b: half the window, the rest held');
    assert.equal(publishNowCount(a, all, 100, 10), 0, 'a newer task of a must not pass its held ones');
    assert.equal(publishNowCount(load('c', { maxRunning: 3, running: 2 }), [], 100, 10), 1, 'the running cap bounds the fast path');
  });

  it('releases held tasks by weight as the window frees, never past a running cap', () => {
    const all = [load('a', { held: 5000, inBroker: 10 }), load('b', { held: 5000, weight: 2 }), load('c', { held: 5000, maxRunning: 4, running: 3 })];
    const plan = new DeficitRoundRobin().plan(all, 100);
    assert.equal(plan.get('c'), 1, 'c: one below its running cap');
    assert.equal(plan.get('b'), 50, 'b: its share (weight 2 of 4)');
    assert.equal(plan.get('a'), 15, 'a: its share of 25 less the 10 in the broker');
    assert.equal(roomOf(all[0]!, all, 100), 15);
  });

  it('shares a small free window in turn by deficit round robin, so no tenant waits forever', () => {
    const drr = new DeficitRoundRobin();
    const got = new Map<string, number>();
    const all = [load('a', { held: 1000, inBroker: 99 }), load('b', { held: 1000 }), load('c', { held: 1000, weight: 2 })];
    // The window is full but for one place at every pass; a is past its share and gets none.
    for (let pass = 0; pass < 30; pass++) for (const [name, n] of drr.plan(all, 100)) got.set(name, (got.get(name) ?? 0) + n);
    assert.equal(got.get('a'), undefined);
    assert.deepEqual([got.get('b'), got.get('c')], [10, 20], 'c, of twice the weight, twice as often');
  });

  it('has accounting periods that start at UTC midnight, on Mondays and on the first of the month', () => {
    const at = Date.UTC(2026, 11, 9, 15, 30); // a Wednesday
    assert.deepEqual(periodAround('day', at).start, new Date(Date.UTC(2026, 11, 9)));
    assert.deepEqual(periodAround('week', at).start, new Date(Date.UTC(2026, 11, 7)));
    assert.deepEqual(periodAround('month', at), { start: new Date(Date.UTC(2026, 11, 1)), end: new Date(Date.UTC(2027, 0, 1)) });
  });
});
