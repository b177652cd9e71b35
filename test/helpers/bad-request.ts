import { strict as assert } from 'node:assert';
import { HttpProblem } from '../../src/http';

/** The `field` the 400 that `fn` throws names; fails the test when `fn` throws no 400. */
export function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HttpProblem, String(err));
    assert.equal(err.status, 400);
    return String(err.extra['field']);
  }
  assert.fail('expected a 400');
}
