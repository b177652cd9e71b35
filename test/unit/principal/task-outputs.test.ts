import { strict as assert } from 'node:assert';
import { TaskOutputs, type OutputChunk } from '../../../src/principal/task-outputs';

const A = '8e3c1c1e-2f55-4a43-9b59-2b8f1f0f6f10';
const B = '0d6c8a4f-3a8e-4c8b-9a55-6f3d0b8a1c22';
const msg = (taskId: string, attempt: number, seq: number, chunks: string[]) => ({ v: 1 as const, taskId, attempt, seq, chunks });

function outputs(o: { maxTasks?: number; maxCharsPerTask?: number } = {}) {
  let now = 1000;
  const outs = new TaskOutputs({ maxTasks: o.maxTasks ?? 10, maxCharsPerTask: o.maxCharsPerTask ?? 100, keepAfterEndMs: 5000, now: () => now });
  return { outs, tick: (ms: number) => { now += ms; } };
}

function follower() {
  const got: OutputChunk[] = [];
  let ended = 0;
  return { got, ended: () => ended, f: { chunk: (c: OutputChunk) => got.push(c), end: () => { ended++; } } };
}

describe('TaskOutputs: streamed output a principal keeps for its clients', () => {
  it('gives a late follower what is kept, then each new chunk once, skipping redelivered ones', () => {
    const { outs } = outputs();
    outs.add(msg(A, 1, 0, ['a', 'b']));
    const live = follower();
    const { backlog } = outs.follow(A, live.f);
    assert.deepEqual(backlog.map((c) => c.text), ['a', 'b']);
    outs.add(msg(A, 1, 1, ['b', 'c']));
    outs.add(msg(A, 1, 3, ['d']));
    assert.deepEqual(live.got.map((c) => [c.seq, c.text]), [[2, 'c'], [3, 'd']]);
  });

  it('starts again for a new attempt and ignores a stale one', () => {
    const { outs } = outputs();
    const live = follower();
    outs.follow(A, live.f);
    outs.add(msg(A, 1, 0, ['first try']));
    outs.add(msg(A, 2, 0, ['second try']));
    outs.add(msg(A, 1, 1, ['late from the first']));
    assert.deepEqual(live.got.map((c) => [c.attempt, c.text]), [[1, 'first try'], [2, 'second try']]);
    assert.deepEqual(outs.follow(A, follower().f).backlog.map((c) => c.text), ['second try']);
  });

  it('keeps at most maxCharsPerTask for late clients while live followers get everything', () => {
    const { outs } = outputs({ maxCharsPerTask: 3 });
    const live = follower();
    outs.follow(A, live.f);
    outs.add(msg(A, 1, 0, ['ab', 'cd', 'e']));
    assert.deepEqual(live.got.map((c) => c.text), ['ab', 'cd', 'e']);
    assert.deepEqual(outs.follow(A, follower().f).backlog.map((c) => c.text), ['ab', 'e']);
  });

  it('tells followers of the end and forgets a finished task after the keep time', () => {
    const { outs, tick } = outputs();
    const live = follower();
    outs.follow(A, live.f);
    outs.add(msg(A, 1, 0, ['x']));
    outs.end(A);
    assert.equal(live.ended(), 1);
    tick(4000);
    outs.add(msg(B, 1, 0, ['y']));
    assert.equal(outs.size, 2, 'kept within the keep time');
    tick(2000);
    outs.add(msg(B, 1, 1, ['z']));
    assert.equal(outs.size, 1);
  });

  it('drops the least recently written outputs without followers past maxTasks', () => {
    const { outs } = outputs({ maxTasks: 2 });
    const watched = follower();
    outs.follow(A, watched.f);
    outs.add(msg(A, 1, 0, ['a']));
    for (let i = 0; i < 5; i++) outs.add(msg(`00000000-0000-4000-8000-00000000000${i}`, 1, 0, ['n']));
    assert.equal(outs.size, 2);
    outs.add(msg(A, 1, 1, ['still followed']));
    assert.deepEqual(watched.got.map((c) => c.text), ['a', 'still followed']);
  });
});
