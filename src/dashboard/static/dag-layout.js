// Where each node of a workflow's DAG goes: layers by longest path, an order inside each layer that
// keeps edges short, and coordinates for the SVG. Pure: no DOM, so it is unit-tested.

/** Every dependency as an edge `{ from, to }` (from the dependency to the node that needs it). */
export function dagEdges(nodes) {
  const keys = new Set(nodes.map((n) => n.key));
  return nodes.flatMap((n) => (n.dependsOn ?? []).filter((d) => keys.has(d)).map((d) => ({ from: d, to: n.key })));
}

/**
 * Each node's layer: 0 for a node without dependencies, else one more than its deepest
 * dependency (longest-path rank), so every edge points to a later layer. Iterative, so a deep
 * chain cannot overflow the stack; a cycle (the API refuses them) ends up in the last layer.
 */
export function rankNodes(nodes) {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const rank = new Map();
  let pending = nodes.map((n) => n.key);
  while (pending.length) {
    const next = pending.filter((key) => {
      const deps = (byKey.get(key).dependsOn ?? []).filter((d) => byKey.has(d));
      if (!deps.every((d) => rank.has(d))) return true;
      rank.set(key, deps.reduce((r, d) => Math.max(r, rank.get(d) + 1), 0));
      return false;
    });
    if (next.length === pending.length) {
      const last = Math.max(0, ...rank.values()) + 1;
      for (const key of next) rank.set(key, last);
      break;
    }
    pending = next;
  }
  return rank;
}

/**
 * The layers, each ordered by the mean position of its nodes' dependencies in the layers before
 * (a barycentre pass: fewer crossings), ties in submission order.
 */
export function dagLayers(nodes) {
  const rank = rankNodes(nodes);
  const layers = [];
  for (const n of nodes) (layers[rank.get(n.key)] ??= []).push(n.key);
  const place = new Map();
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  return layers.filter(Boolean).map((layer, li) => {
    const weight = (key, i) => {
      const deps = (byKey.get(key).dependsOn ?? []).filter((d) => place.has(d));
      return li === 0 || !deps.length ? i : deps.reduce((s, d) => s + place.get(d), 0) / deps.length;
    };
    const ordered = layer.map((key, i) => ({ key, w: weight(key, i), i })).sort((a, b) => a.w - b.w || a.i - b.i).map((x) => x.key);
    ordered.forEach((key, i) => place.set(key, i));
    return ordered;
  });
}

/** Box size and gaps of the drawing, in SVG units (CSS pixels). */
export const DAG_BOX = { width: 188, height: 62, columnGap: 56, rowGap: 14, margin: 8 };

/**
 * Coordinates: layers are columns from left to right, each column's boxes centred vertically.
 * Returns `{ width, height, boxes: Map<key, {x, y}>, edges: [{ from, to, path }] }`.
 */
export function layoutDag(nodes, box = DAG_BOX) {
  const layers = dagLayers(nodes);
  const tallest = Math.max(1, ...layers.map((l) => l.length));
  const height = box.margin * 2 + tallest * box.height + (tallest - 1) * box.rowGap;
  const width = box.margin * 2 + layers.length * box.width + Math.max(0, layers.length - 1) * box.columnGap;
  const boxes = new Map();
  layers.forEach((layer, li) => {
    const used = layer.length * box.height + (layer.length - 1) * box.rowGap;
    const top = box.margin + (height - box.margin * 2 - used) / 2;
    layer.forEach((key, i) => boxes.set(key, { x: box.margin + li * (box.width + box.columnGap), y: top + i * (box.height + box.rowGap) }));
  });
  const edges = dagEdges(nodes).map(({ from, to }) => {
    const a = boxes.get(from);
    const b = boxes.get(to);
    const x1 = a.x + box.width;
    const y1 = a.y + box.height / 2;
    const x2 = b.x;
    const y2 = b.y + box.height / 2;
    const bend = Math.max(24, (x2 - x1) / 2);
    return { from, to, path: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}` };
  });
  return { width, height, boxes, edges };
}
