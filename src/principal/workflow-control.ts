import { randomUUID } from 'node:crypto';
import { isDataError, StoreRefusedDataError, StoreUnavailableError } from '../errors';
import type { SubmittedWorkflow } from '../http';
import { type Logger, type Metrics } from '../observability';
import type { TaskRepository, WorkflowListFilter, WorkflowNodeRecord, WorkflowRecord, WorkflowRepository, WorkflowTaskRow } from '../store';
import { isTerminal, type TaskStatus } from '../task';
import { validateGraph } from '../workflow';
import type { TaskAdmission } from './admission';
import type { TaskControl } from './task-control';
import { buildWorkflowRecords } from './workflow-records';

export interface WorkflowControlDeps {
  workflows: WorkflowRepository;
  repo: TaskRepository;
  admission: TaskAdmission;
  control: TaskControl;
  metrics: Metrics;
  log: Logger;
  maxNodes: number;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** A workflow as REST returns it, without its nodes (list items). */
export function toApiWorkflow(w: WorkflowRecord) {
  return { id: w.id, name: w.name, status: w.status, reason: w.reason, owner: w.owner, createdAt: w.createdAt.toISOString(), updatedAt: w.updatedAt.toISOString(), finishedAt: iso(w.finishedAt) };
}

/** One node as `GET /workflows/{id}` shows it: its state, its tasks, their attempts and timings. */
function toApiNode(n: WorkflowNodeRecord, tasks: ReadonlyMap<string, WorkflowTaskRow>) {
  const own = n.taskIds.map((id) => tasks.get(id));
  return {
    key: n.key, type: (n.spec['type'] as string | undefined) ?? null, dependsOn: n.dependsOn, map: n.mapOver !== null ? { over: n.mapOver } : null,
    status: n.status, reason: n.reason, taskIds: n.taskIds,
    attempts: own.reduce((sum, t) => sum + (t?.attempts ?? 0), 0),
    startedAt: iso(n.startedAt), finishedAt: iso(n.finishedAt),
    tasks: own.flatMap((t) => (t ? [{ id: t.id, index: t.index, status: t.status, attempts: t.attempts, startedAt: iso(t.startedAt), finishedAt: iso(t.finishedAt) }] : [])),
  };
}

/** Submits, reads and cancels workflows on behalf of REST callers (any principal, leader or not). */
export class WorkflowControl {
  constructor(private readonly d: WorkflowControlDeps) {}

  /**
   * Validates the graph, then stores the workflow with the tasks of its first nodes in one
   * transaction and publishes those tasks. With an Idempotency-Key the owner used before, the
   * earlier workflow's id comes back with `created: false`.
   * @throws {@link WorkflowDefinitionError} for a graph that cannot run (the caller's 400).
   */
  async submit(sub: SubmittedWorkflow, owner: string, idempotencyKey?: string, trace?: string): Promise<{ id: string; created: boolean }> {
    validateGraph(sub.nodes, { maxNodes: this.d.maxNodes });
    const { workflow, nodes, tasks } = buildWorkflowRecords(randomUUID(), sub, owner, (b, o, t) => this.d.admission.build(b, o, t), trace);
    let existing: string | null;
    try {
      ({ existing } = await this.d.workflows.create(workflow, nodes, tasks, idempotencyKey));
    } catch (err) {
      if (isDataError(err)) throw new StoreRefusedDataError('the store refused a value of this workflow', { cause: err });
      this.d.metrics.dbErrors.inc();
      throw new StoreUnavailableError('the store refused the workflow', { cause: err });
    }
    if (existing) return { id: existing, created: false };
    this.d.metrics.tasksSubmitted.inc(tasks.length);
    for (const t of tasks) void this.d.admission.publish(t);
    this.d.log.debug({ workflowId: workflow.id, nodes: nodes.length, started: tasks.length }, 'workflow admitted');
    return { id: workflow.id, created: true };
  }

  get(id: string): Promise<WorkflowRecord | undefined> {
    return this.d.workflows.get(id);
  }

  list(filter: WorkflowListFilter): Promise<WorkflowRecord[]> {
    return this.d.workflows.list(filter);
  }

  /** The workflow with each node's state, task ids, attempts and timings. */
  async view(w: WorkflowRecord) {
    const [nodes, rows] = await Promise.all([this.d.workflows.nodes(w.id), this.d.workflows.tasks(w.id)]);
    const tasks = new Map(rows.map((t) => [t.id, t]));
    return { ...toApiWorkflow(w), nodes: nodes.map((n) => toApiNode(n, tasks)) };
  }

  /**
   * Ends a running workflow as cancelled (its unfinished nodes too), then cancels each of its
   * unfinished tasks through the tasks' own cancel, so a running one is stopped on its Ki. Tasks
   * of a workflow that already ended (siblings of a failed element) are cancelled as well.
   */
  async cancel(w: WorkflowRecord, reason: string): Promise<WorkflowRecord> {
    if (await this.d.workflows.cancel(w.id, reason)) {
      this.d.metrics.workflowsFinished.inc({ status: 'cancelled' });
      this.d.log.info({ workflowId: w.id, reason }, 'workflow cancelled');
    }
    const open = (await this.d.workflows.tasks(w.id)).filter((t) => !isTerminal(t.status as TaskStatus)).map((t) => t.id);
    for (const task of await this.d.repo.getMany(open)) await this.d.control.cancel(task, reason);
    return (await this.d.workflows.get(w.id)) ?? w;
  }
}
