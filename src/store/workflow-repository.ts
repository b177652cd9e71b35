import type { NodeChange, NodeStatus, WorkflowStatus } from '../workflow';
import type { Database, Queryable } from './db';
import type { TaskRecord } from './task-record';
import { TaskRepository } from './task-repository';
import { fenceClause, type LeaderFence } from './leader-fence';
import type { WorkflowNodeRecord, WorkflowRecord, WorkflowTaskRow } from './workflow-record';
import { newestFirstPage } from './newest-first-page';

interface WorkflowRow {
  id: string; owner: string; name: string | null; status: WorkflowStatus; reason: string | null; created_at: Date; updated_at: Date; finished_at: Date | null;
}
interface NodeRow {
  workflow_id: string; key: string; position: number; spec: Record<string, unknown>; depends_on: string[]; map_over: string | null; status: NodeStatus;
  reason: string | null; task_ids: string[]; started_at: Date | null; finished_at: Date | null;
}

const WF_COLUMNS = 'id, owner, name, status, reason, created_at, updated_at, finished_at';
const NODE_COLUMNS = 'workflow_id, key, position, spec, depends_on, map_over, status, reason, task_ids, started_at, finished_at';
const json = (v: unknown): string => JSON.stringify(v);

const fromWorkflowRow = (r: WorkflowRow): WorkflowRecord => ({
  id: r.id, owner: r.owner, name: r.name, status: r.status, reason: r.reason, createdAt: r.created_at, updatedAt: r.updated_at, finishedAt: r.finished_at,
});
const fromNodeRow = (r: NodeRow): WorkflowNodeRecord => ({
  workflowId: r.workflow_id, key: r.key, position: r.position, spec: r.spec, dependsOn: r.depends_on, mapOver: r.map_over, status: r.status,
  reason: r.reason, taskIds: r.task_ids, startedAt: r.started_at, finishedAt: r.finished_at,
});

/** A node change to write, with the tasks of a node that starts. */
export type NodeWrite = NodeChange & { tasks?: readonly TaskRecord[] };

export interface WorkflowListFilter {
  owner?: string;
  status?: WorkflowStatus;
  limit: number;
  cursor?: { createdAt: Date; id: string };
}

/** Another writer moved a node first: the whole advance is rolled back and read again later. */
class NodeMovedError extends Error {}

/** Workflows and their nodes, in the SQL PostgreSQL and CockroachDB share. */
export class WorkflowRepository {
  readonly #tasks: TaskRepository;
  constructor(private readonly db: Database) {
    this.#tasks = new TaskRepository(db);
  }

  /**
   * Stores a workflow, its nodes and the tasks of its first nodes in one transaction. With an
   * idempotency key the owner used before, nothing is stored and the earlier workflow's id is
   * returned as `existing`.
   */
  async create(wf: WorkflowRecord, nodes: readonly WorkflowNodeRecord[], tasks: readonly TaskRecord[], idempotencyKey?: string): Promise<{ existing: string | null }> {
    return this.db.transaction(async (q) => {
      const inserted = await q.query(
        `INSERT INTO workflows (id, owner, name, status, reason, idempotency_key, created_at, updated_at, finished_at)
         VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::timestamptz, $7::timestamptz, NULL)
         ON CONFLICT (owner, idempotency_key) DO NOTHING RETURNING id`,
        [wf.id, wf.owner, wf.name, wf.status, wf.reason, idempotencyKey ?? null, wf.createdAt],
      );
      if (inserted.rowCount === 0) {
        const prior = await q.query<{ id: string }>('SELECT id FROM workflows WHERE owner = $1::text AND idempotency_key = $2::text', [wf.owner, idempotencyKey ?? null]);
        return { existing: prior.rows[0]?.id ?? null };
      }
      await insertNodes(q, nodes);
      for (let i = 0; i < tasks.length; i += TASKS_PER_INSERT) await this.#tasks.insertMany(tasks.slice(i, i + TASKS_PER_INSERT), q);
      return { existing: null };
    });
  }

  async get(id: string): Promise<WorkflowRecord | undefined> {
    const r = await this.db.query<WorkflowRow>(`SELECT ${WF_COLUMNS} FROM workflows WHERE id = $1::uuid`, [id]);
    return r.rows[0] ? fromWorkflowRow(r.rows[0]) : undefined;
  }

  async nodes(workflowId: string): Promise<WorkflowNodeRecord[]> {
    const r = await this.db.query<NodeRow>(`SELECT ${NODE_COLUMNS} FROM workflow_nodes WHERE workflow_id = $1::uuid ORDER BY position`, [workflowId]);
    return r.rows.map(fromNodeRow);
  }

  /** Every task a workflow created, with what its views and its advance need. */
  async tasks(workflowId: string): Promise<WorkflowTaskRow[]> {
    const r = await this.db.query<{
      id: string; workflow_node: string; workflow_index: number; status: string; result: unknown; error: WorkflowTaskRow['error'];
      attempts: number; started_at: Date | null; finished_at: Date | null;
    }>(
      'SELECT id, workflow_node, workflow_index, status, result, error, attempts, started_at, finished_at FROM tasks WHERE workflow_id = $1::uuid',
      [workflowId],
    );
    return r.rows.map((t) => ({
      id: t.id, node: t.workflow_node, index: t.workflow_index, status: t.status, result: t.result, error: t.error, attempts: t.attempts,
      startedAt: t.started_at, finishedAt: t.finished_at,
    }));
  }

  /** Newest first; the cursor is the (created_at, id) of the last item of the previous page. */
  async list(f: WorkflowListFilter): Promise<WorkflowRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.owner !== undefined) { params.push(f.owner); where.push(`owner = $${params.length}::text`); }
    if (f.status) { params.push(f.status); where.push(`status = $${params.length}::text`); }
    const r = await this.db.query<WorkflowRow>(`SELECT ${WF_COLUMNS} FROM workflows ${newestFirstPage(where, params, f.cursor, f.limit)}`, params);
    return r.rows.map(fromWorkflowRow);
  }

  /** The workflows (still running) that created any of these tasks. */
  async runningWorkflowsOf(taskIds: readonly string[]): Promise<string[]> {
    if (taskIds.length === 0) return [];
    const r = await this.db.query<{ workflow_id: string }>(
      `SELECT DISTINCT t.workflow_id FROM tasks t JOIN workflows w ON w.id = t.workflow_id
       WHERE t.id = ANY($1::uuid[]) AND t.workflow_id IS NOT NULL AND w.status = 'running'`,
      [taskIds],
    );
    return r.rows.map((x) => x.workflow_id);
  }

  /** Running workflows by id, from just after `afterId` (the reconcile scan pages through them all). */
  async running(limit: number, afterId?: string): Promise<string[]> {
    const r = afterId === undefined
      ? await this.db.query<{ id: string }>("SELECT id FROM workflows WHERE status = 'running' ORDER BY id LIMIT $1::int8", [limit])
      : await this.db.query<{ id: string }>("SELECT id FROM workflows WHERE status = 'running' AND id > $2::uuid ORDER BY id LIMIT $1::int8", [limit, afterId]);
    return r.rows.map((x) => x.id);
  }

  async countByStatus(): Promise<Record<string, number>> {
    const r = await this.db.query<{ status: string; n: number }>('SELECT status, count(*) AS n FROM workflows GROUP BY status');
    return Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)]));
  }

  /**
   * Writes one advance of a workflow in one transaction: each node change guarded by the state
   * it was planned from, the tasks of the nodes it starts, and the workflow's end if `outcome`.
   * Every node write is fenced by the leader's term. Returns false, having written nothing, when
   * a node had moved already (another advancer, a cancel) or the fence no longer holds.
   */
  async applyAdvance(workflowId: string, writes: readonly NodeWrite[], outcome: Exclude<WorkflowStatus, 'running'> | undefined, fence: LeaderFence): Promise<boolean> {
    try {
      await this.db.transaction(async (q) => {
        for (const w of writes) {
          const params: unknown[] = [workflowId, w.key, w.from, w.to, w.to === 'running' ? null : w.reason, json(w.tasks?.map((t) => t.id) ?? [])];
          const r = await q.query(
            `UPDATE workflow_nodes SET status = $4::text, reason = $5::text,
               task_ids = CASE WHEN $4::text = 'running' THEN $6::jsonb ELSE task_ids END,
               started_at = CASE WHEN $4::text = 'running' THEN now() ELSE started_at END,
               finished_at = CASE WHEN $4::text = 'running' THEN NULL ELSE now() END
             WHERE workflow_id = $1::uuid AND key = $2::text AND status = $3::text${fenceClause(params, fence)}`,
            params,
          );
          if (r.rowCount !== 1) throw new NodeMovedError();
          for (let i = 0; i < (w.tasks?.length ?? 0); i += TASKS_PER_INSERT) await this.#tasks.insertMany(w.tasks!.slice(i, i + TASKS_PER_INSERT), q);
        }
        const params: unknown[] = [workflowId, outcome ?? null];
        await q.query(
          `UPDATE workflows SET updated_at = now(), status = COALESCE($2::text, status), finished_at = CASE WHEN $2::text IS NULL THEN finished_at ELSE now() END
           WHERE id = $1::uuid AND status = 'running'${fenceClause(params, fence)}`,
          params,
        );
      });
      return true;
    } catch (err) {
      if (err instanceof NodeMovedError) return false;
      throw err;
    }
  }

  /**
   * Ends a running workflow as cancelled, with every node not yet final; returns false when it
   * was not running. Its tasks are cancelled by the caller, through the tasks' own cancel.
   */
  async cancel(workflowId: string, reason: string): Promise<boolean> {
    return this.db.transaction(async (q) => {
      const r = await q.query(
        "UPDATE workflows SET status = 'cancelled', reason = $2::text, updated_at = now(), finished_at = now() WHERE id = $1::uuid AND status = 'running'",
        [workflowId, reason],
      );
      if (r.rowCount === 0) return false;
      await q.query(
        "UPDATE workflow_nodes SET status = 'cancelled', reason = $2::text, finished_at = now() WHERE workflow_id = $1::uuid AND status IN ('pending', 'running')",
        [workflowId, reason],
      );
      return true;
    });
  }
}

/** Task rows per INSERT: a fan-out of 10,000 would pass PostgreSQL's 65,535 parameters in one statement. */
const TASKS_PER_INSERT = 2000;

/** Rows per node INSERT: 11 parameters each, far below PostgreSQL's 65,535. */
const NODES_PER_INSERT = 1000;

async function insertNodes(q: Queryable, nodes: readonly WorkflowNodeRecord[]): Promise<void> {
  for (let i = 0; i < nodes.length; i += NODES_PER_INSERT) {
    const params: unknown[] = [];
    const rows = nodes.slice(i, i + NODES_PER_INSERT).map((n) => {
      const b = params.length;
      params.push(n.workflowId, n.key, n.position, json(n.spec), json(n.dependsOn), n.mapOver, n.status, n.reason, json(n.taskIds), n.startedAt, n.finishedAt);
      return `($${b + 1}::uuid, $${b + 2}::text, $${b + 3}::int, $${b + 4}::jsonb, $${b + 5}::jsonb, $${b + 6}::text, $${b + 7}::text, $${b + 8}::text, $${b + 9}::jsonb, $${b + 10}::timestamptz, $${b + 11}::timestamptz)`;
    });
    await q.query(`INSERT INTO workflow_nodes (${NODE_COLUMNS}) VALUES ${rows.join(', ')}`, params);
  }
}
