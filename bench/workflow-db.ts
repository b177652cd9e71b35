import pg from 'pg';
import { sleep } from './clock';

/** A workflow's state as the leader stored it. */
export interface WorkflowRow {
  status: string;
  reason: string | null;
  /** When the leader stored the workflow's final state, epoch ms. */
  finishedMs: number | null;
}

/** One node's tasks, as stored: how many, in which states, and the stage's first and last times. */
export interface NodeSpan {
  key: string;
  tasks: number;
  succeeded: number;
  /** First admission (`created_at`) of the node's tasks. */
  firstCreatedMs: number;
  /** Last terminal write (`updated_at`) of the node's tasks; null while one is unfinished. */
  lastTerminalMs: number | null;
  /** Elements whose `inputs` carried the list element of their own index (mapped node only). */
  elementsMatchingIndex: number;
  /** Length of the largest array among the task's `inputs` values (the fan-in node: the mapped results it got). */
  maxInputArrayLength: number;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * Reads the workflow tables of the isolation's database: the end of a workflow is polled there
 * (one indexed row) rather than through `GET /workflows/{id}`, whose answer lists every element's
 * task and would cost the shared cores a large JSON body per poll.
 */
export class WorkflowDb {
  readonly #client: pg.Client;
  constructor(databaseUrl: string) {
    this.#client = new pg.Client({ connectionString: databaseUrl, application_name: 'an-ki-bench-workflow' });
  }

  async connect(): Promise<void> {
    await this.#client.connect();
  }

  async close(): Promise<void> {
    await this.#client.end().catch(() => undefined);
  }

  async workflow(id: string): Promise<WorkflowRow | undefined> {
    const r = await this.#client.query<{ status: string; reason: string | null; f: number | null }>(
      'SELECT status, reason, extract(epoch FROM finished_at)::float8 * 1000 AS f FROM workflows WHERE id = $1::uuid', [id]);
    const row = r.rows[0];
    return row ? { status: row.status, reason: row.reason, finishedMs: row.f } : undefined;
  }

  /** Polls every `intervalMs` until the workflow is final, the deadline passes or the signal aborts. */
  async waitFinal(id: string, deadlineMs: number, signal: AbortSignal, intervalMs = 50): Promise<{ row: WorkflowRow | undefined; seenAtMs: number }> {
    let row: WorkflowRow | undefined;
    while (!signal.aborted) {
      row = await this.workflow(id);
      if (row && FINAL.has(row.status)) break;
      if (Date.now() > deadlineMs) break;
      await sleep(intervalMs);
    }
    return { row, seenAtMs: Date.now() };
  }

  /**
   * Per node: its tasks' count, successes, first admission and last terminal write, and what
   * their stored `inputs` held (REST does not show a task's inputs, the tasks table does).
   * `listKey` is the node the mapped node maps over; its elements are the integers 0..N-1.
   */
  async nodeSpans(id: string, listKey: string): Promise<NodeSpan[]> {
    const r = await this.#client.query<{ node: string; n: string; ok: string; c: number; u: number | null; matching: string; maxlen: number | null }>(
      `SELECT workflow_node AS node, count(*) AS n,
              count(*) FILTER (WHERE status = 'succeeded') AS ok,
              extract(epoch FROM min(created_at))::float8 * 1000 AS c,
              CASE WHEN bool_and(status IN ('succeeded', 'failed', 'cancelled'))
                   THEN extract(epoch FROM max(updated_at))::float8 * 1000 END AS u,
              count(*) FILTER (WHERE inputs -> $2::text = to_jsonb(workflow_index)) AS matching,
              max((SELECT max(jsonb_array_length(v)) FROM jsonb_each(coalesce(inputs, '{}'::jsonb)) AS e(k, v) WHERE jsonb_typeof(v) = 'array')) AS maxlen
         FROM tasks WHERE workflow_id = $1::uuid GROUP BY workflow_node`, [id, listKey]);
    return r.rows.map((row) => ({
      key: row.node, tasks: Number(row.n), succeeded: Number(row.ok), firstCreatedMs: row.c, lastTerminalMs: row.u,
      elementsMatchingIndex: Number(row.matching), maxInputArrayLength: row.maxlen ?? 0,
    }));
  }

  /** How many of a node's tasks each Ki ran. */
  async tasksPerKi(id: string, node: string): Promise<Record<string, number>> {
    const r = await this.#client.query<{ ki: string | null; n: string }>(
      'SELECT ki, count(*) AS n FROM tasks WHERE workflow_id = $1::uuid AND workflow_node = $2 GROUP BY ki ORDER BY ki', [id, node]);
    return Object.fromEntries(r.rows.map((row) => [row.ki ?? 'none', Number(row.n)]));
  }
}
