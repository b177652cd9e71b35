import { strict as assert } from 'node:assert';
import { OutputStream } from '../../../src/ki/output-stream';
import { MAX_CHUNK_CHARS, MAX_CHUNKS_PER_MESSAGE, type OutputChunks } from '../../../src/protocol';
import { LineSplitter } from '../../../src/ki/executors/line-splitter';

const taskId = '8e3c1c1e-2f55-4a43-9b59-2b8f1f0f6f10';

function stream(o: { maxChars?: number; failFirst?: boolean } = {}) {
  const sent: OutputChunks[] = [];
  const truncated: number[] = [];
  let calls = 0;
  const out = new OutputStream({
    taskId, attempt: 2, maxChars: o.maxChars ?? 1000, flushMs: 5,
    send: (body) => { calls++; if (o.failFirst && calls === 1) return Promise.reject(new Error('broker away')); sent.push(body); return Promise.resolve(); },
    onTruncated: (max) => truncated.push(max),
  });
  return { out, sent, truncated };
}

describe('OutputStream: a running attempt\'s output on its way to the An', () => {
  it('gathers chunks into few messages, numbered in order, and sends what is left on close', async () => {
    const { out, sent } = stream();
    for (const t of ['a', 'b', 'c']) out.emit(t);
    out.emit({ token: 'd' });
    await out.close();
    assert.deepEqual(sent, [{ v: 1, taskId, attempt: 2, seq: 0, chunks: ['a', 'b', 'c', '{"token":"d"}'] }]);
    out.emit('after close');
    await out.close();
    assert.equal(sent.length, 1, 'nothing after the attempt ended');
  });

  it('splits long text and full messages, keeping the numbering continuous', async () => {
    const { out, sent } = stream({ maxChars: 10 * MAX_CHUNK_CHARS });
    out.emit('x'.repeat(MAX_CHUNK_CHARS + 1));
    for (let i = 0; i < MAX_CHUNKS_PER_MESSAGE; i++) out.emit('y');
    await out.close();
    assert.deepEqual(sent.map((m) => [m.seq, m.chunks.length]), [[0, MAX_CHUNKS_PER_MESSAGE], [MAX_CHUNKS_PER_MESSAGE, 2]]);
    assert.deepEqual(sent[0]!.chunks.slice(0, 2).map((c) => c.length), [MAX_CHUNK_CHARS, 1]);
  });

  it('stops at the bound, says so once, and loses only the output of a failed send', async () => {
    const { out, sent, truncated } = stream({ maxChars: 5, failFirst: true });
    out.emit('abc');
    await new Promise((r) => setTimeout(r, 20));
    out.emit('defgh');
    out.emit('ij');
    await out.close();
    assert.deepEqual(truncated, [5]);
    assert.deepEqual(sent.map((m) => [m.seq, m.chunks]), [[1, ['de']]], 'the first message failed; the next still goes, numbered after it');
  });
});

describe('LineSplitter', () => {
  it('passes on complete lines as they arrive, across chunk and UTF-8 boundaries, and the rest at the end', () => {
    const lines: string[] = [];
    const split = new LineSplitter((l) => lines.push(l), 8);
    const bytes = Buffer.from('héllo\nwor');
    split.push(bytes.subarray(0, 2));
    split.push(bytes.subarray(2));
    assert.deepEqual(lines, ['héllo\n']);
    split.push(Buffer.from('ld\n0123456789'));
    assert.deepEqual(lines, ['héllo\n', 'world\n', '01234567'], 'a line past the limit goes in pieces');
    split.end();
    assert.deepEqual(lines.at(-1), '89');
  });
});
