import { strict as assert } from 'node:assert';
import { fold, MAX_WAITING_SERIES, OTHER_TYPES } from '../../../src/principal/waiting-report';
import type { WaitingGroup } from '../../../src/store';

describe('waiting tasks report', () => {
  it('keeps the largest groups and sums the rest per resource, so task types cannot grow the series', () => {
    const groups: WaitingGroup[] = Array.from({ length: 200 }, (_, i) => ({ type: `t${i}`, resource: i % 2 ? 'gpu' : 'cpu', model: i % 3 ? '' : `m${i}`, count: 1000 - i, oldestSec: i }));
    const folded = fold(groups);
    assert.equal(folded.length, MAX_WAITING_SERIES);
    assert.deepEqual(folded.slice(0, 2).map((g) => g.type), ['t0', 't1']);
    const others = folded.filter((g) => g.type === OTHER_TYPES);
    assert.deepEqual(others.map((g) => g.resource).sort(), ['cpu', 'gpu']);
    const total = (list: WaitingGroup[]) => list.reduce((n, g) => n + g.count, 0);
    assert.equal(total(folded), total(groups), 'no task is lost from the count');
    assert.equal(Math.max(...others.map((g) => g.oldestSec)), 199, 'the oldest age of the folded groups is kept');
  });

  it('leaves a short list as it is', () => {
    const groups: WaitingGroup[] = [{ type: 'llm', resource: 'gpu', model: 'llama-8b', count: 3, oldestSec: 2 }];
    assert.deepEqual(fold(groups), groups);
  });
});
