/** The shape of a node that graph validation needs. */
export interface GraphNode {
  key: string;
  dependsOn: readonly string[];
  /** The dependency whose array result this node runs once per element of; null: runs once. */
  mapOver: string | null;
}

/** Size limits of one workflow. */
export interface WorkflowLimits {
  /** Nodes per workflow. @defaultValue 1000 */
  maxNodes: number;
  /** Elements one mapped node may fan out to. @defaultValue 10000 */
  maxFanOut: number;
}

/** A definition that cannot run; `field` names where (e.g. `tasks.3.dependsOn`). */
export class WorkflowDefinitionError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'WorkflowDefinitionError';
  }
}

/**
 * Checks that nodes form a DAG a workflow can run: unique keys, dependencies that exist, a map
 * only over one of its own dependencies, no cycle, and at most `maxNodes` nodes.
 * @throws {@link WorkflowDefinitionError} naming the first problem found.
 */
export function validateGraph(nodes: readonly GraphNode[], limits: Pick<WorkflowLimits, 'maxNodes'>): void {
  if (nodes.length === 0) throw new WorkflowDefinitionError('tasks', 'tasks: a workflow needs at least one task');
  if (nodes.length > limits.maxNodes) throw new WorkflowDefinitionError('tasks', `tasks: at most ${limits.maxNodes} tasks per workflow, got ${nodes.length}`);
  const index = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (index.has(n.key)) throw new WorkflowDefinitionError(`tasks.${i}.key`, `tasks.${i}.key: duplicate key "${n.key}" (also tasks.${index.get(n.key)})`);
    index.set(n.key, i);
  });
  nodes.forEach((n, i) => {
    const seen = new Set<string>();
    for (const dep of n.dependsOn) {
      if (dep === n.key) throw new WorkflowDefinitionError(`tasks.${i}.dependsOn`, `tasks.${i}.dependsOn: "${n.key}" depends on itself`);
      if (!index.has(dep)) throw new WorkflowDefinitionError(`tasks.${i}.dependsOn`, `tasks.${i}.dependsOn: unknown key "${dep}"`);
      if (seen.has(dep)) throw new WorkflowDefinitionError(`tasks.${i}.dependsOn`, `tasks.${i}.dependsOn: "${dep}" is named twice`);
      seen.add(dep);
    }
    if (n.mapOver !== null && !seen.has(n.mapOver)) {
      throw new WorkflowDefinitionError(`tasks.${i}.map.over`, `tasks.${i}.map.over: "${n.mapOver}" is not a dependency of "${n.key}"; a task maps only over the result of a task it depends on`);
    }
  });
  const cycle = findCycle(nodes);
  if (cycle) throw new WorkflowDefinitionError('tasks', `tasks: dependency cycle ${cycle.join(' -> ')}`);
}

/** One cycle as a path of keys that starts and ends on the same key, or undefined for a DAG. */
export function findCycle(nodes: readonly GraphNode[]): string[] | undefined {
  const deps = new Map(nodes.map((n) => [n.key, n.dependsOn]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  // Iterative depth-first search: a 1000-node chain must not overflow the stack.
  for (const start of nodes) {
    if (state.has(start.key)) continue;
    const stack: { key: string; next: number }[] = [{ key: start.key, next: 0 }];
    state.set(start.key, 'visiting');
    path.push(start.key);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const list = deps.get(top.key) ?? [];
      if (top.next >= list.length) {
        state.set(top.key, 'done');
        stack.pop();
        path.pop();
        continue;
      }
      const dep = list[top.next++]!;
      const s = state.get(dep);
      if (s === 'visiting') return [...path.slice(path.indexOf(dep)), dep];
      if (s === undefined && deps.has(dep)) {
        state.set(dep, 'visiting');
        path.push(dep);
        stack.push({ key: dep, next: 0 });
      }
    }
  }
  return undefined;
}
