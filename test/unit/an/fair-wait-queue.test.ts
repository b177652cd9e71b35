import { strict as assert } from 'node:assert';
import { FairWaitQueue, type Waiting } from '../../../src/an/fair-wait-queue';

const item = (id: string, priority: number, owner = 'o', type = 'echo', sinceMs = 0): Waiting => ({
  sinceMs, spec: { id, type, owner, priority, payload: null, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, timeoutMs: 1, maxAttempts: 1, createdAtMs: 0 },
});

describe('FairWaitQueue', () => {
  it('offers the highest priority first, first come first served within a flow', () => {
    const q = new FairWaitQueue<Waiting>();
    for (const [id, p] of [['a', 1], ['b', 9], ['c', 5], ['d', 9]] as const) q.push(item(id, p));
    assert.deepEqual(q.ordered().map((i) => i.spec.id), ['b', 'd', 'c', 'a']);
  });

  it('interleaves flows of one priority, starting with the flow served longest ago', () => {
    const q = new FairWaitQueue<Waiting>();
    for (let i = 0; i < 3; i++) q.push(item(`x${i}`, 5, 'o', 'typeA'));
    for (let i = 0; i < 3; i++) q.push(item(`y${i}`, 5, 'o', 'typeB'));
    const first = q.ordered()[0]!;
    q.served(first);
    const next = q.ordered().map((i) => i.spec.id);
    assert.notEqual(next[0]!.charAt(0), first.spec.id.charAt(0), 'the other flow goes next');
    assert.deepEqual(next.map((id) => id.charAt(0)), next[0] === 'y0' ? ['y', 'x', 'y', 'x', 'y'] : ['x', 'y', 'x', 'y', 'x']);
  });

  it('counts, finds, removes and takes items', () => {
    const q = new FairWaitQueue<Waiting>();
    const a = item('a', 5, 'alice', 'echo', 10);
    const b = item('b', 5, 'bob', 'echo', 20);
    q.push(a);
    q.push(b);
    assert.equal(q.size, 2);
    assert.equal(q.find('b'), b);
    assert.deepEqual(q.takeWhere((i) => i.sinceMs < 15), [a]);
    assert.equal(q.size, 1);
    q.remove(b);
    assert.equal(q.size, 0);
    assert.deepEqual(q.ordered(), []);
  });
});
