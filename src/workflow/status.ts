/** States of a workflow: it runs until every node is finished, then ends in one of three. */
export const WORKFLOW_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

/**
 * States of one node. `pending` waits for its dependencies; `running` has its task(s); the rest
 * are final. `skipped`: an upstream node failed, so it never ran.
 */
export const NODE_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

const FINAL_NODE: ReadonlySet<NodeStatus> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

export function isNodeFinal(s: NodeStatus): boolean {
  return FINAL_NODE.has(s);
}

/**
 * How a workflow ends once every node is final: any failure fails it, else any cancellation
 * cancels it, else it succeeded. Undefined while a node is still pending or running.
 */
export function workflowOutcome(nodes: readonly NodeStatus[]): Exclude<WorkflowStatus, 'running'> | undefined {
  if (nodes.some((s) => !isNodeFinal(s))) return undefined;
  if (nodes.includes('failed')) return 'failed';
  if (nodes.includes('cancelled')) return 'cancelled';
  return 'succeeded';
}
