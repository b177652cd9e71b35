import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { ReplayGuard } from '../../../src/security/replay-guard';

describe('ReplayGuard', () => {
  it('reports an id as new the first time and as seen the second time', () => {
    let now = 0;
    const guard = new ReplayGuard(1000, () => now);
    assert.equal(guard.seen('a'), false);
    assert.equal(guard.seen('a'), true);
    now = 999;
    assert.equal(guard.seen('a'), true);
    assert.equal(guard.seen('b'), false);
  });

  it('remembers an id recorded just before a rotation for a whole window after it', () => {
    let now = 0;
    const guard = new ReplayGuard(1000, () => now);
    now = 999;
    assert.equal(guard.seen('late'), false);
    now = 1998;
    assert.equal(guard.seen('late'), true);
  });

  it('forgets an id after two windows without traffic', () => {
    let now = 0;
    const guard = new ReplayGuard(1000, () => now);
    assert.equal(guard.seen('a'), false);
    now = 2000;
    assert.equal(guard.seen('a'), false);
    assert.equal(guard.size, 1);
  });

  it('forgets an id after two rotations with traffic in between', () => {
    let now = 0;
    const guard = new ReplayGuard(1000, () => now);
    guard.seen('a');
    now = 1000;
    assert.equal(guard.seen('b'), false);
    now = 2000;
    assert.equal(guard.seen('c'), false);
    assert.equal(guard.seen('a'), false);
    assert.equal(guard.seen('b'), true);
  });

  it('bounds memory: only the ids of the last two generations are held', () => {
    let now = 0;
    const guard = new ReplayGuard(100, () => now);
    for (let i = 0; i < 50; i++) guard.seen(`old-${i}`);
    now = 100;
    for (let i = 0; i < 10; i++) guard.seen(`mid-${i}`);
    now = 200;
    for (let i = 0; i < 5; i++) guard.seen(`new-${i}`);
    assert.equal(guard.size, 15);
  });

  it('always remembers an id for at least one window and never for three (property)', () => {
    const windowMs = 1000;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 200 }), (steps) => {
        let now = 0;
        const guard = new ReplayGuard(windowMs, () => now);
        const recordedAt = new Map<string, number>();
        for (const [advance, n] of steps) {
          now += advance;
          const id = `id-${n}`;
          const seen = guard.seen(id);
          const at = recordedAt.get(id);
          if (at !== undefined && now - at < windowMs) assert.equal(seen, true, `${id} recorded at ${at} forgotten at ${now}`);
          if (at === undefined || now - at >= 3 * windowMs) assert.equal(seen, false, `${id} recorded at ${at} still known at ${now}`);
          if (!seen) recordedAt.set(id, now);
        }
      }),
      { numRuns: 300 },
    );
  });
});
