import { strict as assert } from 'node:assert';
import { JOIN_RETRY } from '../../../src/cluster/joiner';
import { nextDelayMs } from '../../../src/task';

describe('join retry: how long a node waits for an answer before it asks again', () => {
  it('waits 500 ms doubling to 5 s, each within ±20 %', () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const base = Math.min(5000, 500 * 2 ** (attempt - 1));
      assert.equal(nextDelayMs(JOIN_RETRY, attempt, () => 0), Math.round(base * 0.8), `attempt ${attempt}, least`);
      assert.equal(nextDelayMs(JOIN_RETRY, attempt, () => 0.5), Math.round(base), `attempt ${attempt}, middle`);
      assert.ok(nextDelayMs(JOIN_RETRY, attempt, () => 1 - Number.EPSILON) <= Math.round(base * 1.2), `attempt ${attempt}, most`);
    }
  });
});
