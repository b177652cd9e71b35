// Draws a workflow's DAG as SVG: a box per node (key, status in words and colour, element counts,
// reason) and a curve per dependency. Attributes only, no inline styles: the page's CSP forbids them.

import { layoutDag, DAG_BOX } from './dag-layout.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs ?? {})) if (value !== null && value !== undefined && value !== false) el.setAttribute(name, String(value));
  for (const child of children.flat(Infinity)) if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

const clip = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** "14/20 done" for a mapped node once its elements exist; null otherwise. */
export function elementCounts(node) {
  if (!node.map) return null;
  const tasks = node.tasks ?? [];
  if (!tasks.length) return node.status === 'succeeded' ? '0/0 done' : null;
  return `${tasks.filter((t) => t.status === 'succeeded').length}/${tasks.length} done`;
}

/** The second line of a box: its status, and its counts or what it maps over. */
export function nodeStatusLine(node) {
  const counts = elementCounts(node);
  return [node.status, counts ?? (node.map ? `map over ${node.map.over}` : null)].filter(Boolean).join(' · ');
}

/** The SVG of the whole graph, sized to fit it; the caller puts it in a scroll box. */
export function drawDag(nodes) {
  const { width, height, boxes, edges } = layoutDag(nodes);
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const title = `Workflow graph: ${nodes.length} node${nodes.length === 1 ? '' : 's'}, ${edges.length} dependenc${edges.length === 1 ? 'y' : 'ies'}`;
  return svg('svg', { class: 'dag', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title },
    svg('defs', null, svg('marker', { id: 'dag-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'dag-arrow' }))),
    svg('g', { class: 'dag-edges' }, edges.map((e) => svg('path', { class: `dag-edge es-${byKey.get(e.from).status}`, d: e.path, 'marker-end': 'url(#dag-arrow)', 'data-from': e.from, 'data-to': e.to }))),
    svg('g', { class: 'dag-nodes' }, nodes.map((n) => drawNode(n, boxes.get(n.key)))));
}

function drawNode(n, { x, y }) {
  const { width, height } = DAG_BOX;
  const single = !n.map && n.taskIds?.length === 1 ? n.taskIds[n.taskIds.length - 1] : null;
  const lines = [
    svg('text', { x: 10, y: 19, class: 'dag-key' }, clip(n.key, 24)),
    svg('text', { x: 10, y: 37, class: 'dag-status' }, clip(nodeStatusLine(n), 28)),
    n.reason ? svg('text', { x: 10, y: 53, class: 'dag-reason' }, clip(n.reason, 30)) : n.type ? svg('text', { x: 10, y: 53, class: 'dag-type' }, clip(n.type, 30)) : null,
  ];
  const label = [`${n.key}: ${nodeStatusLine(n)}`, n.reason].filter(Boolean).join('. ');
  const body = [svg('title', null, label), svg('rect', { width, height, rx: 7, class: 'dag-box' }), svg('rect', { width: 5, height, rx: 2, class: 'dag-band' }), lines];
  const g = svg('g', { class: `dag-node ns-${n.status}`, transform: `translate(${x},${y})`, 'data-key': n.key, 'data-status': n.status },
    single ? svg('a', { href: `#/tasks/${single}`, 'aria-label': `${label}. Open task ${single}` }, body) : body);
  return g;
}
