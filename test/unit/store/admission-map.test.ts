import { strict as assert } from 'node:assert';
import { OverloadedError } from '../../../src/errors';
import { AdmissionMap } from '../../../src/store/admission-map';

const entry = (id: string, owner = 'alice', createdAtMs = 1000) => ({ id, owner, createdAtMs });

describe('AdmissionMap', () => {
  it('keeps admitted tasks when the write succeeds and returns what the write returned', async () => {
    const map = new AdmissionMap(10);
    const out = await map.admit([entry('a'), entry('b', 'bob', 2000)], async () => 'inserted');
    assert.equal(out, 'inserted');
    assert.equal(map.size, 2);
    assert.deepEqual(map.get('a'), { owner: 'alice', createdAtMs: 1000 });
    assert.deepEqual(map.get('b'), { owner: 'bob', createdAtMs: 2000 });
  });

  it('holds the tasks while the write runs, before the store has answered', async () => {
    const map = new AdmissionMap(10);
    await map.admit([entry('a')], async () => {
      assert.equal(map.has('a'), true);
    });
  });

  it('holds nothing afterwards when the write throws, and rethrows the write error', async () => {
    const map = new AdmissionMap(10);
    const failure = new Error('insert failed');
    await assert.rejects(map.admit([entry('a'), entry('b')], async () => { throw failure; }), (err) => err === failure);
    assert.equal(map.size, 0);
    assert.equal(map.has('a'), false);
    assert.equal(map.has('b'), false);
  });

  it('restores the previous value of an id that was there before when the write throws', async () => {
    const map = new AdmissionMap(10);
    await map.admit([entry('a', 'alice', 1000)], async () => undefined);
    await assert.rejects(map.admit([entry('a', 'bob', 5000), entry('b')], async () => { throw new Error('store down'); }));
    assert.deepEqual(map.get('a'), { owner: 'alice', createdAtMs: 1000 });
    assert.equal(map.has('b'), false);
    assert.equal(map.size, 1);
  });

  it('keeps the new value of an id that was there before when the write succeeds', async () => {
    const map = new AdmissionMap(10);
    await map.admit([entry('a', 'alice', 1000)], async () => undefined);
    await map.admit([entry('a', 'alice', 3000)], async () => undefined);
    assert.deepEqual(map.get('a'), { owner: 'alice', createdAtMs: 3000 });
  });

  it('refuses with OverloadedError beyond capacity without calling the write', async () => {
    const map = new AdmissionMap(2);
    await map.admit([entry('a')], async () => undefined);
    let writes = 0;
    await assert.rejects(map.admit([entry('b'), entry('c')], async () => { writes++; }), OverloadedError);
    assert.equal(writes, 0);
    assert.equal(map.size, 1);
    assert.equal(map.has('b'), false);
    await map.admit([entry('b')], async () => { writes++; });
    assert.equal(writes, 1);
    assert.equal(map.size, 2);
  });

  it('marks the overload error as retryable', async () => {
    const map = new AdmissionMap(0);
    await assert.rejects(map.admit([entry('a')], async () => undefined), (err: unknown) => err instanceof OverloadedError && err.retryable && err.code === 'OVERLOADED');
  });

  it('releases a task and returns what it held, and answers undefined for an unknown id', async () => {
    const map = new AdmissionMap(10);
    await map.admit([entry('a', 'alice', 42)], async () => undefined);
    assert.deepEqual(map.release('a'), { owner: 'alice', createdAtMs: 42 });
    assert.equal(map.has('a'), false);
    assert.equal(map.size, 0);
    assert.equal(map.release('a'), undefined);
  });

  it('frees capacity when a task is released', async () => {
    const map = new AdmissionMap(1);
    await map.admit([entry('a')], async () => undefined);
    await assert.rejects(map.admit([entry('b')], async () => undefined), OverloadedError);
    map.release('a');
    await map.admit([entry('b')], async () => undefined);
    assert.equal(map.has('b'), true);
  });

  it('lists ids admitted before a time, up to a limit', async () => {
    const map = new AdmissionMap(10);
    await map.admit([entry('a', 'x', 100), entry('b', 'x', 200), entry('c', 'x', 300), entry('d', 'x', 50)], async () => undefined);
    assert.deepEqual(map.olderThan(250, 10).sort(), ['a', 'b', 'd']);
    assert.equal(map.olderThan(250, 2).length, 2);
    assert.deepEqual(map.olderThan(50, 10), []);
  });
});
