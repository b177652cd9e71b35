import type { SubmittedWorkflow, SubmitTask } from '../http';
import type { TaskRecord, WorkflowNodeRecord, WorkflowRecord } from '../store';
import type { NodeRun } from '../workflow';

/** Builds a task's stored form with the configured defaults (admission's `build`). */
export type BuildTask = (body: SubmitTask, owner: string, trace?: string) => TaskRecord;

/** The task that runs one element of a node, built through admission like any submission. */
export function taskForRun(build: BuildTask, node: Pick<WorkflowNodeRecord, 'workflowId' | 'key' | 'spec'>, run: NodeRun, owner: string, trace?: string): TaskRecord {
  return { ...build(node.spec, owner, trace), workflowId: node.workflowId, workflowNode: node.key, workflowIndex: run.index, inputs: run.inputs };
}

/**
 * The stored form of a validated submission: the workflow, its nodes, and the tasks of the nodes
 * that depend on nothing, which start at once (written in the same transaction as the workflow).
 */
export function buildWorkflowRecords(
  id: string, sub: SubmittedWorkflow, owner: string, build: BuildTask, trace?: string,
): { workflow: WorkflowRecord; nodes: WorkflowNodeRecord[]; tasks: TaskRecord[] } {
  const now = new Date();
  const workflow: WorkflowRecord = { id, owner, name: sub.name, status: 'running', reason: null, createdAt: now, updatedAt: now, finishedAt: null };
  const tasks: TaskRecord[] = [];
  const nodes = sub.nodes.map((n, position): WorkflowNodeRecord => {
    const node: WorkflowNodeRecord = {
      workflowId: id, key: n.key, position, spec: n.task, dependsOn: n.dependsOn, mapOver: n.mapOver,
      status: 'pending', reason: null, taskIds: [], startedAt: null, finishedAt: null,
    };
    if (n.dependsOn.length > 0) return node;
    const task = taskForRun(build, node, { index: 0, inputs: {} }, owner, trace);
    tasks.push(task);
    return { ...node, status: 'running', taskIds: [task.id], startedAt: now };
  });
  return { workflow, nodes, tasks };
}
