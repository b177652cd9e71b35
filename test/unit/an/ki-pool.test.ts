import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { KiPool } from '../../../src/an/ki-pool';
import type { Heartbeat } from '../../../src/cluster/membership';

function hb(id: string, total: number, types: string[] = ['echo'], labels: string[] = []): Heartbeat {
  return {
    v: 1, id, role: 'ki', group: 'g1', status: 'alive', startedAtMs: 0, version: '0.1.0', load: 0,
    slots: { total, busy: 0 }, gpus: [], types, labels,
  };
}

/** A pool whose clock the test moves. */
function pool(policy: 'least-loaded' | 'lru') {
  const clock = { now: 1000 };
  return { clock, pool: new KiPool(policy, () => clock.now) };
}

describe('KiPool', () => {
  describe('least-loaded', () => {
    it('picks the Ki with the lowest share of reserved slots', () => {
      const { pool: p, clock } = pool('least-loaded');
      p.upsert(hb('big', 4));
      p.upsert(hb('small', 2));
      // big: 2/4 reserved; small: 0/2 reserved.
      p.reserve('echo', new Set(['small']));
      clock.now++;
      p.reserve('echo', new Set(['small']));
      clock.now++;
      assert.equal(p.reserve('echo'), 'small');
    });

    it('weighs load relative to size, not the raw count of reserved slots', () => {
      const { pool: p, clock } = pool('least-loaded');
      p.upsert(hb('big', 8));
      p.upsert(hb('small', 2));
      for (let i = 0; i < 3; i++) { p.reserve('echo', new Set(['small'])); clock.now++; }
      p.reserve('echo', new Set(['big']));
      clock.now++;
      // big: 3/8 = 0.375, small: 1/2 = 0.5.
      assert.equal(p.reserve('echo'), 'big');
    });

    it('breaks a tie by the Ki assigned longest ago', () => {
      const { pool: p, clock } = pool('least-loaded');
      p.upsert(hb('a', 2));
      p.upsert(hb('b', 2));
      assert.equal(p.reserve('echo', new Set(['a'])), 'b');
      clock.now += 10;
      assert.equal(p.reserve('echo', new Set(['b'])), 'a');
      clock.now += 10;
      // both 1/2 reserved; b was assigned first.
      assert.equal(p.reserve('echo'), 'b');
    });

    it('spreads reservations evenly over equal Kis (property)', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), (kis, slots) => {
        const { pool: p, clock } = pool('least-loaded');
        for (let i = 0; i < kis; i++) p.upsert(hb(`ki-${i}`, slots));
        const counts = new Map<string, number>();
        for (let n = 0; n < kis * slots; n++) {
          const id = p.reserve('echo');
          assert.ok(id);
          counts.set(id, (counts.get(id) ?? 0) + 1);
          const values = [...counts.values(), ...Array(kis - counts.size).fill(0)];
          assert.ok(Math.max(...values) - Math.min(...values) <= 1, 'reservations differ by more than one');
          clock.now++;
        }
        assert.equal(p.reserve('echo'), undefined);
        assert.equal(p.free, 0);
      }));
    });
  });

  describe('lru', () => {
    it('picks the Ki assigned longest ago, a never-used one first', () => {
      const { pool: p, clock } = pool('lru');
      p.upsert(hb('a', 10));
      p.upsert(hb('b', 10));
      p.upsert(hb('c', 10));
      clock.now = 100;
      assert.equal(p.reserve('echo', new Set(['b', 'c'])), 'a');
      clock.now = 200;
      assert.equal(p.reserve('echo', new Set(['a', 'c'])), 'b');
      clock.now = 300;
      assert.equal(p.reserve('echo'), 'c');
      clock.now = 400;
      assert.equal(p.reserve('echo'), 'a');
      clock.now = 500;
      assert.equal(p.reserve('echo'), 'b');
    });

    it('ignores load: a busier Ki assigned longer ago is still preferred', () => {
      const { pool: p, clock } = pool('lru');
      p.upsert(hb('busy', 10));
      p.upsert(hb('idle', 10));
      clock.now = 10;
      for (let i = 0; i < 5; i++) p.reserve('echo', new Set(['idle']));
      clock.now = 20;
      p.reserve('echo', new Set(['busy']));
      clock.now = 30;
      assert.equal(p.reserve('echo'), 'busy');
    });
  });

  it('never reserves more slots on a Ki than it advertises', () => {
    const { pool: p } = pool('least-loaded');
    p.upsert(hb('a', 2));
    assert.equal(p.reserve('echo'), 'a');
    assert.equal(p.reserve('echo'), 'a');
    assert.equal(p.reserve('echo'), undefined);
    assert.equal(p.free, 0);
  });

  it('reserves only on Kis that run the task type', () => {
    const { pool: p } = pool('least-loaded');
    p.upsert(hb('cpu', 4, ['echo', 'cpu']));
    p.upsert(hb('gpu', 4, ['llm']));
    assert.equal(p.reserve('llm'), 'gpu');
    assert.equal(p.reserve('cpu'), 'cpu');
    assert.equal(p.reserve('exec'), undefined);
    assert.equal(p.supports('llm'), true);
    assert.equal(p.supports('exec'), false);
  });

  it('skips excluded Kis and answers undefined when every fitting Ki is excluded', () => {
    const { pool: p } = pool('least-loaded');
    p.upsert(hb('a', 4));
    p.upsert(hb('b', 4));
    assert.equal(p.reserve('echo', new Set(['a'])), 'b');
    assert.equal(p.reserve('echo', new Set(['a', 'b'])), undefined);
  });

  it('frees a slot on release and never counts below zero', () => {
    const { pool: p } = pool('least-loaded');
    p.upsert(hb('a', 1));
    assert.equal(p.reserve('echo'), 'a');
    assert.equal(p.free, 0);
    p.release('a');
    assert.equal(p.free, 1);
    p.release('a');
    p.release('unknown');
    assert.equal(p.free, 1);
    assert.equal(p.reserve('echo'), 'a');
    assert.equal(p.reserve('echo'), undefined);
  });

  it('sums capacity and free slots over its Kis', () => {
    const { pool: p } = pool('least-loaded');
    assert.equal(p.capacity, 0);
    assert.equal(p.free, 0);
    p.upsert(hb('a', 4));
    p.upsert(hb('b', 2));
    assert.equal(p.capacity, 6);
    assert.equal(p.free, 6);
    p.reserve('echo');
    p.reserve('echo');
    assert.equal(p.capacity, 6);
    assert.equal(p.free, 4);
  });

  it('reports whether a heartbeat changed capacity and keeps reservations across heartbeats', () => {
    const { pool: p } = pool('least-loaded');
    assert.equal(p.upsert(hb('a', 2)), true);
    assert.equal(p.upsert(hb('a', 2)), false);
    p.reserve('echo');
    assert.equal(p.upsert(hb('a', 3)), true);
    assert.equal(p.capacity, 3);
    assert.equal(p.free, 2);
  });

  it('does not count negative free slots when a Ki shrinks below its reservations', () => {
    const { pool: p } = pool('least-loaded');
    p.upsert(hb('a', 3));
    p.reserve('echo');
    p.reserve('echo');
    p.upsert(hb('a', 1));
    assert.equal(p.free, 0);
    assert.equal(p.reserve('echo'), undefined);
  });

  it('updates the task types a Ki runs from its latest heartbeat', () => {
    const { pool: p } = pool('least-loaded');
    p.upsert(hb('a', 2, ['echo']));
    p.upsert(hb('a', 2, ['cpu']));
    assert.equal(p.reserve('echo'), undefined);
    assert.equal(p.reserve('cpu'), 'a');
  });

  it('forgets a removed Ki and its slots', () => {
    const { pool: p } = pool('least-loaded');
    p.upsert(hb('a', 2));
    p.upsert(hb('b', 2));
    assert.equal(p.remove('a'), true);
    assert.equal(p.remove('a'), false);
    assert.equal(p.has('a'), false);
    assert.deepEqual(p.ids(), ['b']);
    assert.equal(p.capacity, 2);
    assert.equal(p.reserve('echo', new Set(['b'])), undefined);
  });

  it('ignores a Ki that advertises no slots', () => {
    const { pool: p } = pool('least-loaded');
    p.upsert(hb('empty', 0));
    assert.equal(p.reserve('echo'), undefined);
    p.upsert(hb('one', 1));
    assert.equal(p.reserve('echo'), 'one');
  });
});
