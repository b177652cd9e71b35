import { strict as assert } from 'node:assert';
import { throttledProgress } from '../../../src/ki/progress-throttle';

describe('throttledProgress', () => {
  it('passes one report per interval, always the completion, clamped, with the message cut to 1024 characters', () => {
    let clock = 1000;
    const sent: Array<[number, string | undefined]> = [];
    const progress = throttledProgress(500, (f, m) => sent.push([f, m]), () => clock);
    progress(0.1, 'first');
    progress(0.2, 'dropped: within the interval');
    clock += 500;
    progress(7, 'x'.repeat(2000));
    progress(1, 'done');
    clock += 500;
    progress(Number.NaN);
    progress(-3);
    assert.deepEqual(sent, [[0.1, 'first'], [1, 'x'.repeat(1024)], [1, 'done'], [0, undefined]]);
  });
});
