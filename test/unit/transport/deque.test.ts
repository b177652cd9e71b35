import { strict as assert } from 'node:assert';
import { Deque } from '../../../src/transport/deque';

/** Empties a deque from the head. */
function drain<T>(d: Deque<T>): T[] {
  const out: T[] = [];
  for (let v = d.shift(); v !== undefined; v = d.shift()) out.push(v);
  return out;
}

describe('Deque', () => {
  it('is empty when new: length 0, and peek and shift give undefined', () => {
    const d = new Deque<number>();
    assert.equal(d.length, 0);
    assert.equal(d.peek(), undefined);
    assert.equal(d.shift(), undefined);
  });

  it('takes values at the tail and gives them back first in, first out', () => {
    const d = new Deque<number>();
    for (let n = 0; n < 5; n++) d.push(n);
    assert.equal(d.length, 5);
    assert.equal(d.peek(), 0);
    assert.deepEqual(drain(d), [0, 1, 2, 3, 4]);
  });

  it('puts unshifted values before the others', () => {
    const d = new Deque<string>();
    d.push('b');
    d.unshift('a');
    d.push('c');
    d.unshift('z');
    assert.deepEqual(drain(d), ['z', 'a', 'b', 'c']);
  });

  it('keeps the order when it grows past its initial capacity, with the head wrapped around the buffer', () => {
    const d = new Deque<number>();
    // Move the head off index 0 first, so growing must unwrap the ring.
    for (let n = 0; n < 10; n++) d.push(n);
    for (let n = 0; n < 10; n++) d.shift();
    for (let n = 0; n < 100; n++) d.push(n);
    for (let n = -1; n >= -20; n--) d.unshift(n);
    const expected = [...Array.from({ length: 20 }, (_, i) => i - 20), ...Array.from({ length: 100 }, (_, i) => i)];
    assert.equal(d.length, 120);
    assert.deepEqual(drain(d), expected);
  });

  it('is empty and usable again after clear', () => {
    const d = new Deque<number>();
    for (let n = 0; n < 40; n++) d.push(n);
    d.clear();
    assert.equal(d.length, 0);
    assert.equal(d.peek(), undefined);
    d.push(7);
    assert.deepEqual(drain(d), [7]);
  });
});
