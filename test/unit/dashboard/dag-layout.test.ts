import { strict as assert } from 'node:assert';
import { dagEdges, dagLayers, layoutDag, rankNodes } from '../../../src/dashboard/static/dag-layout.js';

const node = (key: string, ...dependsOn: string[]) => ({ key, dependsOn });

describe('dashboard DAG layout', () => {
  it('ranks each node one past its deepest dependency (longest path), not its shallowest', () => {
    const nodes = [node('d', 'a', 'c'), node('a'), node('b', 'a'), node('c', 'b'), node('e')];
    assert.deepEqual(Object.fromEntries(rankNodes(nodes)), { a: 0, e: 0, b: 1, c: 2, d: 3 });
  });

  it('lists one edge per dependency, from the dependency to the node that needs it', () => {
    assert.deepEqual(dagEdges([node('a'), node('b', 'a'), node('c', 'a', 'b')]), [
      { from: 'a', to: 'b' }, { from: 'a', to: 'c' }, { from: 'b', to: 'c' },
    ]);
  });

  it('puts a cycle the API would refuse in a last layer instead of looping', () => {
    const rank = rankNodes([node('a'), node('b', 'c'), node('c', 'b')]);
    assert.equal(rank.get('a'), 0);
    assert.equal(rank.get('b'), 1);
    assert.equal(rank.get('c'), 1);
  });

  it('orders a layer by where its dependencies sit, so parallel chains do not cross', () => {
    const nodes = [node('x'), node('y'), node('y2', 'y'), node('x2', 'x')];
    assert.deepEqual(dagLayers(nodes), [['x', 'y'], ['x2', 'y2']]);
  });

  it('places every edge from the right side of one column to the left side of a later one', () => {
    const nodes = Array.from({ length: 50 }, (_, i) => node(`n${i}`, ...(i ? [`n${Math.floor((i - 1) / 3)}`] : [])));
    const { width, height, boxes, edges } = layoutDag(nodes);
    assert.equal(boxes.size, 50);
    assert.equal(edges.length, 49);
    for (const e of edges) assert.ok(boxes.get(e.to)!.x > boxes.get(e.from)!.x, `${e.from} → ${e.to} goes right`);
    for (const b of boxes.values()) assert.ok(b.x >= 0 && b.y >= 0 && b.x < width && b.y < height);
    const spots = new Set([...boxes.values()].map((b) => `${b.x},${b.y}`));
    assert.equal(spots.size, 50, 'no two boxes overlap');
  });
});
