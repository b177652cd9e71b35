import type { NodeStatus, WorkflowStatus } from '../workflow';

/** A workflow as the store keeps it; its nodes are {@link WorkflowNodeRecord}s. */
export interface WorkflowRecord {
  id: string;
  owner: string;
  name: string | null;
  status: WorkflowStatus;
  /** Why it ended other than succeeded (e.g. who cancelled it); null otherwise. */
  reason: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** One node of a workflow. */
export interface WorkflowNodeRecord {
  workflowId: string;
  key: string;
  /** Its place in the submitted list, so nodes come back in the order they were given. */
  position: number;
  /** The task fields each of its tasks is built from (type, payload, priority, …), as submitted. */
  spec: Record<string, unknown>;
  dependsOn: string[];
  mapOver: string | null;
  status: NodeStatus;
  reason: string | null;
  /** Its tasks, in element order for a mapped node. */
  taskIds: string[];
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** What the workflow views and the advancer read of a workflow's task. */
export interface WorkflowTaskRow {
  id: string;
  node: string;
  index: number;
  status: string;
  result: unknown;
  error: { code: string; message: string } | null;
  attempts: number;
  startedAt: Date | null;
  finishedAt: Date | null;
}
