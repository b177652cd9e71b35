import { type Logger, type Metrics } from '../observability';
import type { NodeWrite, WorkflowRepository, WorkflowNodeRecord } from '../store';
import { isTerminal, type TaskStatus } from '../task';
import { planAdvance, workflowOutcome, type NodeStatus, type PlanTask } from '../workflow';
import type { TaskAdmission } from './admission';
import type { Leadership } from './leadership';
import { taskForRun } from './workflow-records';

/** Running workflows one reconcile round reads at most; the next round takes the rest. */
const RECONCILE_BATCH = 500;
/** How long finished-task ids gather before the workflows they belong to are looked up at once. */
const EVENT_GATHER_MS = 20;

export interface WorkflowAdvancerDeps {
  workflows: WorkflowRepository;
  /** Builds a node's tasks with the configured defaults and publishes them once stored. */
  admission: Pick<TaskAdmission, 'build' | 'publish'>;
  /** Cancels the unfinished tasks of a node that failed (siblings of a failed element), stopping them on their Kis. */
  cancelTasks?: (ids: readonly string[], reason: string) => Promise<void>;
  leadership: Leadership;
  metrics: Metrics;
  log: Logger;
  maxFanOut: number;
}

/**
 * The leader's part of workflows: when a workflow's task finishes (its task event) and on a
 * periodic reconcile round, it plans how the workflow moves on ({@link planAdvance}) and writes
 * the plan in one transaction fenced by its term: node states, the tasks of the nodes that start,
 * the workflow's end. Every write is guarded by the state it was planned from, so two advancers
 * (an old and a new leader) create each node's tasks once; a leader killed at any point leaves
 * either all of an advance or none of it, and the next one finishes the work. The tasks are
 * published after the commit; one whose publish is lost is republished by the sweeper.
 */
export class WorkflowAdvancer {
  readonly #finished = new Set<string>();
  #gather?: NodeJS.Timeout;
  /** Workflows being advanced, and those asked again meanwhile: one advance per workflow at a time. */
  readonly #busy = new Set<string>();
  readonly #again = new Set<string>();
  /** Where the reconcile scan goes on: a round reads at most {@link RECONCILE_BATCH} workflows. */
  #reconcileAfter?: string;

  constructor(private readonly d: WorkflowAdvancerDeps) {}

  /** A task ended; if it belongs to a running workflow, that workflow is advanced shortly (leader only). */
  onTaskFinished(taskId: string): void {
    if (!this.d.leadership.fence()) return;
    this.#finished.add(taskId);
    this.#gather ??= setTimeout(() => {
      this.#gather = undefined;
      const ids = [...this.#finished];
      this.#finished.clear();
      this.d.workflows.runningWorkflowsOf(ids)
        .then((wfs) => { for (const id of wfs) this.request(id); })
        .catch((err: Error) => this.d.log.warn({ err: err.message }, 'workflows of finished tasks not read; the reconcile round advances them'));
    }, EVENT_GATHER_MS);
  }

  /** Advances one workflow now, or right after the advance of it under way. Never throws. */
  request(id: string): void {
    if (this.#busy.has(id)) {
      this.#again.add(id);
      return;
    }
    this.#busy.add(id);
    void (async () => {
      try {
        do {
          this.#again.delete(id);
          await this.advance(id).catch((err: Error) => this.d.log.warn({ workflowId: id, err: err.message }, 'workflow advance failed; the reconcile round retries'));
        } while (this.#again.has(id));
      } finally {
        this.#busy.delete(id);
      }
    })();
  }

  /** The reconcile round: counts running workflows and advances each (leader only). */
  async reconcile(): Promise<void> {
    if (!this.d.leadership.fence()) {
      this.d.metrics.workflowsActive.set(0);
      return;
    }
    const counts = await this.d.workflows.countByStatus();
    this.d.metrics.workflowsActive.set(counts['running'] ?? 0);
    const ids = await this.d.workflows.running(RECONCILE_BATCH, this.#reconcileAfter);
    // Next round goes on after the last one read, and starts over once it read the end.
    this.#reconcileAfter = ids.length === RECONCILE_BATCH ? ids[ids.length - 1] : undefined;
    for (const id of ids) {
      if (this.#busy.has(id)) continue;
      this.#busy.add(id);
      try {
        await this.advance(id);
      } catch (err) {
        this.d.log.warn({ workflowId: id, err: (err as Error).message }, 'workflow advance failed; the next round retries');
      } finally {
        this.#busy.delete(id);
      }
    }
  }

  /**
   * Reads a workflow, plans its next step and writes it; returns whether anything was written.
   * A plan that lost a race (a node moved meanwhile) writes nothing and is planned again.
   */
  async advance(id: string): Promise<boolean> {
    for (let round = 0; round < 3; round++) {
      const fence = this.d.leadership.fence();
      if (!fence) return false;
      const wf = await this.d.workflows.get(id);
      if (!wf || wf.status !== 'running') return false;
      const [nodes, rows] = await Promise.all([this.d.workflows.nodes(id), this.d.workflows.tasks(id)]);
      const tasks = new Map<string, PlanTask>(rows.map((t) => [t.id, t]));
      const changes = planAdvance(nodes, tasks, { maxFanOut: this.d.maxFanOut });
      const after = new Map<string, NodeStatus>(nodes.map((n) => [n.key, n.status]));
      for (const c of changes) after.set(c.key, c.to);
      const outcome = workflowOutcome([...after.values()]);
      if (changes.length === 0 && !outcome) return false;
      const byKey = new Map(nodes.map((n) => [n.key, n]));
      const writes = changes.map((c): NodeWrite => (c.to === 'running' ? { ...c, tasks: c.runs.map((r) => taskForRun(this.#build, byKey.get(c.key) as WorkflowNodeRecord, r, wf.owner)) } : c));
      if (!(await this.d.workflows.applyAdvance(id, writes, outcome, fence))) continue;
      for (const w of writes) for (const t of w.tasks ?? []) void this.d.admission.publish(t);
      this.#report(id, writes, outcome);
      await this.#cancelLeftovers(writes, byKey, tasks);
      return true;
    }
    return false;
  }

  /** The elements of a failed mapped node still queued or running would only spend Ki time: they are cancelled. */
  async #cancelLeftovers(writes: readonly NodeWrite[], byKey: ReadonlyMap<string, WorkflowNodeRecord>, tasks: ReadonlyMap<string, PlanTask>): Promise<void> {
    if (!this.d.cancelTasks) return;
    for (const w of writes) {
      if (w.from !== 'running' || w.to !== 'failed') continue;
      const open = (byKey.get(w.key)?.taskIds ?? []).filter((t) => { const s = tasks.get(t)?.status; return s !== undefined && !isTerminal(s as TaskStatus); });
      if (open.length === 0) continue;
      await this.d.cancelTasks(open, `workflow node "${w.key}" failed`).catch((err: Error) => this.d.log.warn({ node: w.key, err: err.message }, 'tasks of a failed node not cancelled'));
    }
  }

  readonly #build = (body: Parameters<TaskAdmission['build']>[0], owner: string) => this.d.admission.build(body, owner);

  #report(id: string, writes: readonly NodeWrite[], outcome: string | undefined): void {
    const started = writes.filter((w) => w.to === 'running').map((w) => ({ key: w.key, tasks: w.tasks?.length ?? 0 }));
    const ended = writes.flatMap((w) => (w.to === 'running' ? [] : [{ key: w.key, status: w.to, ...(w.reason ? { reason: w.reason } : {}) }]));
    const created = started.reduce((n, s) => n + s.tasks, 0);
    if (created > 0) this.d.metrics.tasksSubmitted.inc(created);
    this.d.log.debug({ workflowId: id, started, ended }, 'workflow advanced');
    if (outcome) {
      this.d.metrics.workflowsFinished.inc({ status: outcome });
      this.d.log.info({ workflowId: id, status: outcome }, 'workflow finished');
    }
  }

  stop(): void {
    clearTimeout(this.#gather);
    this.#gather = undefined;
  }
}
