import { strict as assert } from 'node:assert';
import { BoundedOutput } from '../../../../src/ki/executors/bounded-output';

describe('BoundedOutput', () => {
  it('keeps everything below the bound', () => {
    const out = new BoundedOutput(10);
    out.push(Buffer.from('hello '));
    out.push(Buffer.from('you'));
    assert.equal(out.text(), 'hello you');
    assert.equal(out.truncated, false);
  });

  it('keeps exactly the bound and marks the rest as dropped', () => {
    const out = new BoundedOutput(5);
    out.push(Buffer.from('abc'));
    out.push(Buffer.from('defgh'));
    out.push(Buffer.from('ijk'));
    assert.equal(out.text(), 'abcde');
    assert.equal(out.truncated, true);
  });

  it('is not truncated when the output ends exactly at the bound', () => {
    const out = new BoundedOutput(3);
    out.push(Buffer.from('abc'));
    assert.equal(out.truncated, false);
  });
});
