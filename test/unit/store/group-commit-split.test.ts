import { strict as assert } from 'node:assert';
import { isDataError } from '../../../src/errors';
import { GroupCommitter } from '../../../src/store/group-commit';

/** An error like pg's for a value the store cannot hold (22P05: untranslatable character). */
const dataError = () => Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });

describe('GroupCommitter with item errors', () => {
  it('writes every good item of a batch that held a bad one, and fails only the bad one', async () => {
    const written: number[] = [];
    const heard: number[] = [];
    let flushes = 0;
    const gc = new GroupCommitter<number, number>({
      maxBatch: 100, maxConcurrent: 1, isItemError: isDataError, onBatch: (n) => heard.push(n),
      flush: async (items) => {
        flushes++;
        if (items.includes(13)) throw dataError();
        written.push(...items);
        return items.map((i) => i * 2);
      },
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => gc.submit(i)));
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
    assert.deepEqual(failed, [13]);
    assert.equal((outcomes[13] as PromiseRejectedResult).reason.code, '22P05');
    assert.deepEqual(outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o).value), [...Array(40).keys()].filter((i) => i !== 13).map((i) => i * 2));
    assert.deepEqual([...written].sort((a, b) => a - b), [...Array(40).keys()].filter((i) => i !== 13));
    assert.ok(flushes < 40, `halving finds the bad item in a few flushes, not one per item (${flushes})`);
    assert.deepEqual(heard, [1, 39], 'each batch taken is reported once, with the halves it was split into not counted again');
  });

  it('fails the whole batch at once for an error of the store itself', async () => {
    let flushes = 0;
    const gc = new GroupCommitter<number, void>({
      maxBatch: 100, maxConcurrent: 1, isItemError: isDataError,
      flush: async () => { flushes++; throw Object.assign(new Error('connection terminated'), { code: '57P01' }); },
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => gc.submit(i)));
    assert.ok(outcomes.every((o) => o.status === 'rejected'));
    assert.ok(flushes <= 10 && flushes >= 1);
    assert.equal(gc.backlogWeight, 0);
  });
});

describe('isDataError', () => {
  it('tells errors caused by the rows from errors of the store', () => {
    for (const code of ['22P05', '22021', '23505', '54000', '54001']) assert.equal(isDataError({ code }), true, code);
    for (const code of ['40001', '40P01', '57P01', '08006', '53300', undefined, 22]) assert.equal(isDataError({ code }), false, String(code));
    assert.equal(isDataError(null), false);
    assert.equal(isDataError(new Error('x')), false);
  });
});
