import { strict as assert } from 'node:assert';
import { findCycle, validateGraph, WorkflowDefinitionError, type GraphNode } from '../../../src/workflow';

const node = (key: string, dependsOn: string[] = [], mapOver: string | null = null): GraphNode => ({ key, dependsOn, mapOver });
const limits = { maxNodes: 1000 };

function refuses(nodes: GraphNode[], field: string, message: RegExp, max = limits): void {
  assert.throws(() => validateGraph(nodes, max), (err: unknown) => {
    assert.ok(err instanceof WorkflowDefinitionError);
    assert.equal(err.field, field);
    assert.match(err.message, message);
    return true;
  });
}

describe('workflow graph validation', () => {
  it('accepts a DAG with a fan-out over a dependency and a fan-in', () => {
    validateGraph([node('list'), node('square', ['list'], 'list'), node('sum', ['square']), node('side', ['list'])], limits);
  });

  it('refuses a duplicate key, naming both places', () => {
    refuses([node('a'), node('b'), node('a')], 'tasks.2.key', /duplicate key "a" \(also tasks\.0\)/);
  });

  it('refuses a dependency on a key that does not exist', () => {
    refuses([node('a'), node('b', ['a', 'c'])], 'tasks.1.dependsOn', /unknown key "c"/);
  });

  it('refuses a node that depends on itself', () => {
    refuses([node('a', ['a'])], 'tasks.0.dependsOn', /depends on itself/);
  });

  it('refuses a map over a key that is not one of the node\'s dependencies', () => {
    refuses([node('a'), node('b'), node('c', ['a'], 'b')], 'tasks.2.map.over', /"b" is not a dependency of "c"/);
  });

  it('refuses a cycle and names its path', () => {
    refuses([node('root'), node('a', ['root', 'c']), node('b', ['a']), node('c', ['b'])], 'tasks', /dependency cycle (a -> c -> b -> a|c -> b -> a -> c|b -> a -> c -> b)/);
  });

  it('refuses more nodes than the limit, and an empty workflow', () => {
    refuses([node('a'), node('b'), node('c')], 'tasks', /at most 2 tasks per workflow, got 3/, { maxNodes: 2 });
    refuses([], 'tasks', /at least one task/);
  });

  it('finds no cycle in a long chain without overflowing the stack', () => {
    const chain = Array.from({ length: 20_000 }, (_, i) => node(`n${i}`, i ? [`n${i - 1}`] : []));
    assert.equal(findCycle(chain), undefined);
  });
});
