import type { NodeStatus } from './status';

/** A node as the planner sees it: its place in the graph, its state and the tasks it created. */
export interface PlanNode {
  key: string;
  dependsOn: readonly string[];
  mapOver: string | null;
  status: NodeStatus;
  reason: string | null;
  /** In element order for a mapped node. */
  taskIds: readonly string[];
}

/** What the planner reads of a node's task. */
export interface PlanTask {
  id: string;
  status: string;
  result: unknown;
  error: { code: string; message: string } | null;
}

/** One element to run: the task's `inputs`, and its index (0 for a node that is not mapped). */
export interface NodeRun {
  index: number;
  inputs: Record<string, unknown>;
}

/** A change of one node's state, guarded by the state it was read in (`from`). */
export type NodeChange =
  | { key: string; from: NodeStatus; to: 'succeeded' | 'failed' | 'skipped'; reason: string | null }
  | { key: string; from: 'pending'; to: 'running'; runs: NodeRun[] };

const MAX_REASON = 1000;
const clip = (s: string) => (s.length > MAX_REASON ? `${s.slice(0, MAX_REASON - 1)}…` : s);

function typeName(v: unknown): string {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'array' : typeof v;
}

/**
 * Works out how a workflow moves on from what its nodes and tasks say now: running nodes whose
 * tasks all succeeded succeed, one whose task ended otherwise fails, pending nodes whose
 * dependencies all succeeded start (once per element of a mapped upstream result), and nodes
 * downstream of a failure are skipped, naming the node that failed. Changes follow from one
 * another within one call (a failure skips its whole downstream at once); each node changes at
 * most once. Pure: the caller writes the changes, guarded by `from`.
 */
export function planAdvance(nodes: readonly PlanNode[], tasks: ReadonlyMap<string, PlanTask>, limits: { maxFanOut: number }): NodeChange[] {
  const state = new Map(nodes.map((n) => [n.key, { status: n.status, reason: n.reason }]));
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const changes = new Map<string, NodeChange>();
  const set = (n: PlanNode, change: NodeChange) => {
    changes.set(n.key, change);
    state.set(n.key, { status: change.to, reason: change.to === 'running' ? null : change.reason });
  };
  /** A finished node's result: its task's, or the array of its tasks' results for a mapped node. */
  const resultOf = (n: PlanNode): unknown => {
    const results = n.taskIds.map((id) => tasks.get(id)?.result ?? null);
    return n.mapOver !== null ? results : (results[0] ?? null);
  };

  for (let moved = true; moved;) {
    moved = false;
    for (const n of nodes) {
      if (changes.has(n.key)) continue;
      const s = state.get(n.key)!.status;
      const change = s === 'running' ? settleRunning(n, tasks) : s === 'pending' ? startOrSkip(n) : undefined;
      if (change) {
        set(n, change);
        moved = true;
      }
    }
  }
  return [...changes.values()];

  function startOrSkip(n: PlanNode): NodeChange | undefined {
    for (const dep of n.dependsOn) {
      const d = state.get(dep);
      if (!d) continue;
      if (d.status === 'failed') return { key: n.key, from: 'pending', to: 'skipped', reason: clip(`dependency "${dep}" failed`) };
      if (d.status === 'skipped') return { key: n.key, from: 'pending', to: 'skipped', reason: d.reason ?? `dependency "${dep}" was skipped` };
      if (d.status === 'cancelled') return { key: n.key, from: 'pending', to: 'skipped', reason: clip(`dependency "${dep}" was cancelled`) };
    }
    if (!n.dependsOn.every((dep) => state.get(dep)?.status === 'succeeded')) return undefined;
    const inputs: Record<string, unknown> = Object.fromEntries(n.dependsOn.map((dep) => [dep, resultOf(byKey.get(dep)!)]));
    if (n.mapOver === null) return { key: n.key, from: 'pending', to: 'running', runs: [{ index: 0, inputs }] };
    const list = inputs[n.mapOver];
    if (!Array.isArray(list)) {
      return { key: n.key, from: 'pending', to: 'failed', reason: clip(`map over "${n.mapOver}": its result is ${typeName(list)}, not an array`) };
    }
    if (list.length > limits.maxFanOut) {
      return { key: n.key, from: 'pending', to: 'failed', reason: clip(`map over "${n.mapOver}": ${list.length} elements, more than the limit of ${limits.maxFanOut}`) };
    }
    // Nothing to map over: the node is done at once, with an empty list as its result.
    if (list.length === 0) return { key: n.key, from: 'pending', to: 'succeeded', reason: null };
    return { key: n.key, from: 'pending', to: 'running', runs: (list as unknown[]).map((item, index) => ({ index, inputs: { ...inputs, [n.mapOver!]: item } })) };
  }
}

/** A running node whose tasks all ended: succeeded, or failed naming the first task that did not. */
function settleRunning(n: PlanNode, tasks: ReadonlyMap<string, PlanTask>): NodeChange | undefined {
  const own = n.taskIds.map((id) => tasks.get(id));
  // A task deleted (DELETE /tasks/{id}) will never finish: its node fails rather than wait forever.
  const missing = own.findIndex((t) => t === undefined);
  if (missing >= 0) return { key: n.key, from: 'running', to: 'failed', reason: `task ${n.taskIds[missing]} no longer exists` };
  const ended = own.findIndex((t) => t !== undefined && isEndedBadly(t));
  if (ended >= 0) {
    const t = own[ended]!;
    const element = n.mapOver !== null ? `element ${ended} (task ${t.id})` : `task ${t.id}`;
    const why = t.error ? `${t.error.code}: ${t.error.message}` : t.status;
    return { key: n.key, from: 'running', to: 'failed', reason: clip(`${element} ${t.status}: ${why}`) };
  }
  if (own.every((t) => t?.status === 'succeeded')) return { key: n.key, from: 'running', to: 'succeeded', reason: null };
  return undefined;
}

function isEndedBadly(t: PlanTask): boolean {
  return t.status === 'failed' || t.status === 'cancelled';
}
