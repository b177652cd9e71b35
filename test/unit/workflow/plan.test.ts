import { strict as assert } from 'node:assert';
import { planAdvance, workflowOutcome, type NodeStatus, type PlanNode, type PlanTask } from '../../../src/workflow';

const node = (key: string, dependsOn: string[], status: NodeStatus, taskIds: string[] = [], mapOver: string | null = null): PlanNode =>
  ({ key, dependsOn, mapOver, status, reason: null, taskIds });
const ok = (id: string, result: unknown): PlanTask => ({ id, status: 'succeeded', result, error: null });
const tasksOf = (...list: PlanTask[]) => new Map(list.map((t) => [t.id, t]));
const LIMITS = { maxFanOut: 100 };

describe('workflow planning', () => {
  it('starts a mapped node once per element of its upstream list, each with its element as its input', () => {
    const nodes = [node('list', [], 'running', ['t1']), node('square', ['list'], 'pending', [], 'list'), node('sum', ['square'], 'pending')];
    const changes = planAdvance(nodes, tasksOf(ok('t1', [3, 4, 5])), LIMITS);
    assert.deepEqual(changes.map((c) => [c.key, c.from, c.to]), [['list', 'running', 'succeeded'], ['square', 'pending', 'running']]);
    const start = changes[1]!;
    assert.ok(start.to === 'running');
    assert.deepEqual(start.runs, [{ index: 0, inputs: { list: 3 } }, { index: 1, inputs: { list: 4 } }, { index: 2, inputs: { list: 5 } }]);
  });

  it('gives a node that depends on a mapped node the list of its results in element order', () => {
    const nodes = [node('list', [], 'succeeded', ['t1']), node('square', ['list'], 'running', ['a', 'b', 'c'], 'list'), node('sum', ['square', 'list'], 'pending')];
    const changes = planAdvance(nodes, tasksOf(ok('t1', [1, 2, 3]), ok('c', 9), ok('a', 1), ok('b', 4)), LIMITS);
    const start = changes.find((c) => c.key === 'sum');
    assert.ok(start && start.to === 'running');
    assert.deepEqual(start.runs, [{ index: 0, inputs: { square: [1, 4, 9], list: [1, 2, 3] } }]);
  });

  it('waits while a mapped node still has an element running', () => {
    const nodes = [node('list', [], 'succeeded', ['t1']), node('square', ['list'], 'running', ['a', 'b'], 'list'), node('sum', ['square'], 'pending')];
    assert.deepEqual(planAdvance(nodes, tasksOf(ok('t1', [1, 2]), ok('a', 1), { id: 'b', status: 'running', result: null, error: null }), LIMITS), []);
  });

  it('fails a node whose task failed and skips everything downstream, naming the failed key', () => {
    const nodes = [node('a', [], 'running', ['t1']), node('b', ['a'], 'pending'), node('c', ['b'], 'pending'), node('d', [], 'running', ['t2'])];
    const failed: PlanTask = { id: 't1', status: 'failed', result: null, error: { code: 'EXECUTOR_ERROR', message: 'boom' } };
    const changes = planAdvance(nodes, tasksOf(failed, { id: 't2', status: 'running', result: null, error: null }), LIMITS);
    const by = new Map(changes.map((c) => [c.key, c]));
    assert.equal(by.get('a')?.to, 'failed');
    assert.match((by.get('a') as { reason: string }).reason, /task t1 failed: EXECUTOR_ERROR: boom/);
    assert.equal(by.get('b')?.to, 'skipped');
    assert.equal((by.get('b') as { reason: string }).reason, 'dependency "a" failed');
    assert.equal(by.get('c')?.to, 'skipped');
    assert.equal((by.get('c') as { reason: string }).reason, 'dependency "a" failed', 'a node two steps down names the node that failed');
    assert.equal(by.has('d'), false, 'an independent branch runs on');
  });

  it('fails a mapped node whose upstream result is not an array, saying so', () => {
    const nodes = [node('a', [], 'running', ['t1']), node('m', ['a'], 'pending', [], 'a')];
    const changes = planAdvance(nodes, tasksOf(ok('t1', { not: 'a list' })), LIMITS);
    const m = changes.find((c) => c.key === 'm');
    assert.equal(m?.to, 'failed');
    assert.match((m as { reason: string }).reason, /map over "a": its result is object, not an array/);
  });

  it('fails a mapped node whose upstream list is longer than the fan-out limit', () => {
    const nodes = [node('a', [], 'succeeded', ['t1']), node('m', ['a'], 'pending', [], 'a')];
    const m = planAdvance(nodes, tasksOf(ok('t1', [1, 2, 3])), { maxFanOut: 2 })[0];
    assert.equal(m?.to, 'failed');
    assert.match((m as { reason: string }).reason, /3 elements, more than the limit of 2/);
  });

  it('finishes a map over an empty list at once, and its dependent gets an empty list', () => {
    const nodes = [node('a', [], 'succeeded', ['t1']), node('m', ['a'], 'pending', [], 'a'), node('z', ['m'], 'pending')];
    const changes = planAdvance(nodes, tasksOf(ok('t1', [])), LIMITS);
    assert.equal(changes[0]?.to, 'succeeded');
    const z = changes[1];
    assert.ok(z && z.to === 'running');
    assert.deepEqual(z.runs[0]?.inputs, { m: [] });
  });

  it('fails a running node whose task no longer exists', () => {
    const change = planAdvance([node('a', [], 'running', ['gone'])], new Map(), LIMITS)[0];
    assert.equal(change?.to, 'failed');
  });

  it('ends a workflow failed on any failure, cancelled on any cancellation, else succeeded, and not before every node is final', () => {
    assert.equal(workflowOutcome(['succeeded', 'running']), undefined);
    assert.equal(workflowOutcome(['succeeded', 'failed', 'skipped', 'cancelled']), 'failed');
    assert.equal(workflowOutcome(['succeeded', 'cancelled']), 'cancelled');
    assert.equal(workflowOutcome(['succeeded', 'succeeded']), 'succeeded');
  });
});
