import { strict as assert } from 'node:assert';
import { GroupCommitter } from '../../../src/store/group-commit';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Waits until `check` holds, giving the event loop a turn between looks; fails after a deadline. */
async function waitUntil(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A flush the test completes by hand: every call is recorded with its own deferred answer. */
function controlledFlush<I, O>() {
  const calls: { items: I[]; answer: Deferred<O[]> }[] = [];
  const flush = (items: I[]): Promise<O[]> => {
    const answer = deferred<O[]>();
    calls.push({ items: [...items], answer });
    return answer.promise;
  };
  return { calls, flush };
}

/** Records how each promise settled, without leaving rejections unhandled. */
function track<T>(p: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then((value) => { state.settled = true; state.value = value; }, (error: unknown) => { state.settled = true; state.error = error; });
  return state;
}

describe('GroupCommitter', () => {
  it('flushes at once when idle, and writes items submitted during a flush together in the next one', async () => {
    const { calls, flush } = controlledFlush<string, string>();
    const gc = new GroupCommitter<string, string>({ flush, maxBatch: 100, maxConcurrent: 1 });

    const a = gc.submit('a');
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.items, ['a']);

    const b = gc.submit('b');
    const c = gc.submit('c');
    const d = gc.submit('d');
    assert.equal(calls.length, 1, 'nothing else is flushed while the first flush runs');
    assert.equal(gc.backlog, 3);

    calls[0]!.answer.resolve(['A']);
    assert.equal(await a, 'A');
    await waitUntil(() => calls.length === 2, 'the second flush');
    assert.deepEqual(calls[1]!.items, ['b', 'c', 'd']);
    assert.equal(gc.backlog, 0);

    calls[1]!.answer.resolve(['B', 'C', 'D']);
    assert.deepEqual(await Promise.all([b, c, d]), ['B', 'C', 'D']);
  });

  it('gives each caller the output at its own position in the batch', async () => {
    const gc = new GroupCommitter<number, number>({ flush: async (items) => items.map((n) => n * 10), maxBatch: 100, maxConcurrent: 1 });
    const outs = await Promise.all([1, 2, 3, 4, 5].map((n) => gc.submit(n)));
    assert.deepEqual(outs, [10, 20, 30, 40, 50]);
  });

  it('rejects only the callers of a failing batch, and later batches still succeed', async () => {
    const { calls, flush } = controlledFlush<string, string>();
    const gc = new GroupCommitter<string, string>({ flush, maxBatch: 100, maxConcurrent: 1 });

    const a = track(gc.submit('a'));
    const b = track(gc.submit('b'));
    const c = track(gc.submit('c'));
    calls[0]!.answer.resolve(['A']);
    await waitUntil(() => calls.length === 2, 'the second flush');
    const d = track(gc.submit('d'));

    const failure = new Error('commit failed');
    calls[1]!.answer.reject(failure);
    await waitUntil(() => calls.length === 3, 'the third flush');
    assert.deepEqual(calls[2]!.items, ['d']);
    calls[2]!.answer.resolve(['D']);
    await waitUntil(() => d.settled, 'the last caller');

    assert.equal(a.value, 'A');
    assert.equal(b.error, failure);
    assert.equal(c.error, failure);
    assert.equal(d.value, 'D');
    assert.equal(d.error, undefined);
  });

  it('rejects the batch when the flush throws synchronously, and keeps serving', async () => {
    let fail = true;
    const gc = new GroupCommitter<string, string>({
      flush: (items) => {
        if (fail) { fail = false; throw new Error('sync failure'); }
        return Promise.resolve(items.map((i) => i.toUpperCase()));
      },
      maxBatch: 10,
      maxConcurrent: 1,
    });
    await assert.rejects(gc.submit('a'), /sync failure/);
    assert.equal(await gc.submit('b'), 'B');
  });

  it('caps a batch at maxBatch items when no weight is given', async () => {
    const { calls, flush } = controlledFlush<number, number>();
    const gc = new GroupCommitter<number, number>({ flush, maxBatch: 2, maxConcurrent: 1 });
    const all = [1, 2, 3, 4, 5].map((n) => gc.submit(n));
    for (let i = 0; i < 3; i++) {
      await waitUntil(() => calls.length === i + 1, `flush ${i + 1}`);
      calls[i]!.answer.resolve(calls[i]!.items);
    }
    assert.deepEqual(calls.map((c) => c.items), [[1], [2, 3], [4, 5]]);
    assert.deepEqual(await Promise.all(all), [1, 2, 3, 4, 5]);
  });

  it('limits a batch by weight, and lets one item heavier than the limit go alone', async () => {
    const { calls, flush } = controlledFlush<{ rows: number }, number>();
    const gc = new GroupCommitter<{ rows: number }, number>({ flush, maxBatch: 5, weigh: (i) => i.rows, maxConcurrent: 1 });
    const all = [1, 3, 2, 4, 9, 1, 1].map((rows) => gc.submit({ rows }));
    for (let i = 0; i < 4; i++) {
      await waitUntil(() => calls.length === i + 1, `flush ${i + 1}`);
      calls[i]!.answer.resolve(calls[i]!.items.map((x) => x.rows));
    }
    await waitUntil(() => calls.length === 5, 'flush 5');
    calls[4]!.answer.resolve(calls[4]!.items.map((x) => x.rows));
    assert.deepEqual(calls.map((c) => c.items.map((x) => x.rows)), [[1], [3, 2], [4], [9], [1, 1]]);
    for (const c of calls) {
      const weight = c.items.reduce((s, x) => s + x.rows, 0);
      assert.ok(c.items.length === 1 || weight <= 5, `batch of weight ${weight}`);
    }
    assert.deepEqual(await Promise.all(all), [1, 3, 2, 4, 9, 1, 1]);
  });

  it('runs up to maxConcurrent flushes at once', async () => {
    const { calls, flush } = controlledFlush<string, string>();
    const gc = new GroupCommitter<string, string>({ flush, maxBatch: 1, maxConcurrent: 2 });
    const all = ['a', 'b', 'c'].map((s) => gc.submit(s));
    assert.equal(calls.length, 2);
    assert.equal(gc.backlog, 1);
    calls[1]!.answer.resolve(['B']);
    await waitUntil(() => calls.length === 3, 'the third flush');
    calls[0]!.answer.resolve(['A']);
    calls[2]!.answer.resolve(['C']);
    assert.deepEqual(await Promise.all(all), ['A', 'B', 'C']);
  });

  it('drains only after every queued and running item has been written', async () => {
    const { calls, flush } = controlledFlush<string, string>();
    const gc = new GroupCommitter<string, string>({ flush, maxBatch: 10, maxConcurrent: 1 });
    const order: string[] = [];
    const items = ['a', 'b', 'c'].map((s) => gc.submit(s).then((v) => { order.push(v); }));
    const drained = gc.drain().then(() => { order.push('drained'); });

    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [], 'drain must not resolve while a flush is running');
    calls[0]!.answer.resolve(['A']);
    await waitUntil(() => calls.length === 2, 'the second flush');
    assert.deepEqual(order, ['A']);
    calls[1]!.answer.resolve(['B', 'C']);
    await drained;
    await Promise.all(items);
    assert.deepEqual(order, ['A', 'B', 'C', 'drained']);
    assert.equal(gc.backlog, 0);
  });

  it('with coalesce, writes what was submitted in one turn of the event loop as one batch', async () => {
    const { calls, flush } = controlledFlush<string, string>();
    const gc = new GroupCommitter<string, string>({ flush, maxBatch: 100, maxConcurrent: 1, coalesce: true });
    const out = ['a', 'b', 'c'].map((s) => gc.submit(s));
    assert.equal(calls.length, 0, 'no flush starts before the turn ends');
    await waitUntil(() => calls.length === 1, 'the first flush');
    assert.deepEqual(calls[0]!.items, ['a', 'b', 'c']);
    calls[0]!.answer.resolve(['A', 'B', 'C']);
    assert.deepEqual(await Promise.all(out), ['A', 'B', 'C']);
  });

  it('with coalesce, flushes at once when a batch is full', () => {
    const { calls, flush } = controlledFlush<string, string>();
    const gc = new GroupCommitter<string, string>({ flush, maxBatch: 2, maxConcurrent: 1, coalesce: true });
    const out = ['a', 'b'].map((s) => track(gc.submit(s)));
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.items, ['a', 'b']);
    calls[0]!.answer.resolve(['A', 'B']);
    assert.equal(out.length, 2);
  });

  it('drains at once when nothing was submitted', async () => {
    const gc = new GroupCommitter<string, string>({ flush: async (items) => items, maxBatch: 10 });
    await gc.drain();
    assert.equal(gc.backlog, 0);
  });
});
