import { strict as assert } from 'node:assert';
import { OutputBatcher } from '../../../src/ki/output-batcher';
import type { OutputChunks } from '../../../src/protocol';

const TASK_A = '8e3c1c1e-2f55-4a43-9b59-2b8f1f0f6f10';
const TASK_B = '0b1f7a4e-54f2-4c83-9a47-6e0c3b5a1d22';
const piece = (taskId: string, seq: number, ...chunks: string[]): OutputChunks => ({ v: 1, taskId, attempt: 1, seq, chunks });

function batcher(o: { flushMs?: number; maxItems?: number; maxChars?: number; failFirst?: boolean } = {}) {
  const sent: { an: string; items: OutputChunks[] }[] = [];
  let calls = 0;
  const b = new OutputBatcher({
    flushMs: o.flushMs ?? 10_000, maxItems: o.maxItems ?? 100, maxChars: o.maxChars ?? 10_000,
    send: async (an, items) => {
      calls++;
      if (o.failFirst && calls === 1) throw new Error('broker away');
      sent.push({ an, items });
    },
  });
  return { b, sent };
}

describe('OutputBatcher: the output of a Ki\'s attempts, one message per An and flush', () => {
  it('sends the output of several attempts for one An in one message, in the order it came', async () => {
    const { b, sent } = batcher({ flushMs: 5 });
    const done = [b.add('an-1', piece(TASK_A, 0, 'a')), b.add('an-1', piece(TASK_B, 0, 'x')), b.add('an-1', piece(TASK_A, 1, 'b'))];
    assert.equal(sent.length, 0, 'nothing goes before the flush');
    await Promise.all(done);
    assert.deepEqual(sent.map((m) => [m.an, m.items.map((i) => `${i.taskId === TASK_A ? 'A' : 'B'}${i.seq}`)]), [['an-1', ['A0', 'B0', 'A1']]]);
  });

  it('keeps the output for different Ans apart', async () => {
    const { b, sent } = batcher();
    const done = [b.add('an-1', piece(TASK_A, 0, 'a')), b.add('an-2', piece(TASK_B, 0, 'x'))];
    b.flush('an-1');
    b.flush('an-2');
    await Promise.all(done);
    assert.deepEqual(sent.map((m) => [m.an, m.items.length]), [['an-1', 1], ['an-2', 1]]);
  });

  it('sends at once when an attempt ends, or a message is full by pieces or by characters', async () => {
    const { b, sent } = batcher({ maxItems: 2, maxChars: 10 });
    await b.add('an-1', piece(TASK_A, 0, 'a'), true);
    assert.equal(sent.length, 1, 'the last piece of an attempt does not wait for the timer');
    void b.add('an-1', piece(TASK_A, 1, 'b'));
    await b.add('an-1', piece(TASK_B, 0, 'x'));
    assert.deepEqual(sent.map((m) => m.items.length), [1, 2], 'two pieces fill a message');
    await b.add('an-1', piece(TASK_B, 1, 'y'.repeat(10)));
    assert.equal(sent.length, 3, 'ten characters fill a message');
  });

  it('loses only the output of a failed send: the next message still goes, after it', async () => {
    const { b, sent } = batcher({ failFirst: true });
    const first = b.add('an-1', piece(TASK_A, 0, 'a'), true);
    const second = b.add('an-1', piece(TASK_A, 1, 'b'), true);
    await Promise.all([first, second]);
    assert.deepEqual(sent.map((m) => m.items.map((i) => i.seq)), [[1]]);
  });
});
