import { strict as assert } from 'node:assert';
import { StateWriter } from '../../../src/an/state-writer';
import type { AppliedTransition, TaskRepository, Transition } from '../../../src/store';
import { TRANSITIONS } from '../../../src/task';

/** A repository whose UPDATE fails as PostgreSQL's does when any row of the batch holds U+0000 in jsonb. */
function repoRefusingNul(batches: string[][]): TaskRepository {
  return {
    applyTransitions: async (list: readonly Transition[]): Promise<AppliedTransition[]> => {
      batches.push(list.map((t) => t.id));
      if (list.some((t) => JSON.stringify(t.outcome ?? null).includes('\\u0000'))) {
        throw Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
      }
      return list.map((t) => ({ id: t.id, attempts: t.expectedAttempts, status: TRANSITIONS[t.name].to }));
    },
  } as unknown as TaskRepository;
}

const transition = (id: string, result: unknown): Transition => ({ id, name: 'succeed', expectedAttempts: 1, outcome: { result, error: null } });

describe('StateWriter: a row the store refuses does not take its batch down', () => {
  it('writes the good rows of a batch and fails only the refused one, with its data error', async () => {
    const batches: string[][] = [];
    const writer = new StateWriter(repoRefusingNul(batches), 500);
    const ids = Array.from({ length: 9 }, (_, i) => `t${i}`);
    const outcomes = await Promise.allSettled(ids.map((id) => writer.apply(transition(id, id === 't4' ? 'a\u0000b' : id))));
    for (const [i, o] of outcomes.entries()) {
      if (ids[i] === 't4') {
        assert.equal(o.status, 'rejected');
        assert.equal((o).reason.code, '22P05');
      } else {
        assert.equal(o.status, 'fulfilled', `${ids[i]} was written`);
        assert.equal((o).value?.status, 'succeeded');
      }
    }
    assert.deepEqual(batches[0], ids, 'first tried as one statement');
    assert.ok(batches.some((b) => b.length === 1 && b[0] === 't4'), 'the bad row ends up alone');
  });

  it('still fails the whole batch when the database itself is away (not a data error)', async () => {
    const repo = { applyTransitions: async () => { throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }); } } as unknown as TaskRepository;
    const writer = new StateWriter(repo, 500);
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((id) => writer.apply(transition(id, id))));
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected']);
  });
});
