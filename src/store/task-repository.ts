import type { Database, Queryable } from './db';
import type { TaskProgress, TaskRecord } from './task-record';
import { COLUMNS, fromRow, json, T_COLUMNS, type TaskRow } from './task-row';
import { fenceClause, type LeaderFence } from './leader-fence';
import { HELD_STATUSES, LEASED_STATUSES, REPRIORITIZABLE_STATUSES, TRANSITIONS, WAITING_STATUSES, type ErrorCode, type TaskStatus } from '../task';
import { compileGuard, sqlStates, type Transition } from './transition-guard';
import { newestFirstPage } from './newest-first-page';
import { readWaitingTasks, type WaitingGroup } from './waiting-tasks';
import { appendAttemptLogSql } from './attempt-log';

const HELD_SQL = sqlStates(HELD_STATUSES);
const LEASED_SQL = sqlStates(LEASED_STATUSES);
const CANCELLABLE_SQL = sqlStates(TRANSITIONS.cancel.from);
const WAITING_SQL = sqlStates(WAITING_STATUSES);
const REPRIORITIZABLE_SQL = sqlStates(REPRIORITIZABLE_STATUSES);
/** A transition's entry: the An and Ki it sets, else (a retry or requeue clears them) those of the attempt it ends. */
const TRANSITION_LOG_SQL = appendAttemptLogSql({
  status: 'v.to_status', attempt: 'CASE WHEN v.bump THEN t.attempts + 1 ELSE t.attempts END',
  an: 'CASE WHEN v.set_an AND v.an IS NOT NULL THEN v.an ELSE t.an END', ki: 'CASE WHEN v.set_ki AND v.ki IS NOT NULL THEN v.ki ELSE t.ki END',
  gpus: 'v.gpus', error: 'CASE WHEN v.set_outcome THEN v.error END',
});
const CANCEL_LOG_SQL = appendAttemptLogSql({ status: `'${TRANSITIONS.cancel.to}'`, attempt: 't.attempts', an: 't.an', ki: 't.ki', error: '$2::jsonb' });

export interface AppliedTransition {
  id: string;
  attempts: number;
  status: TaskStatus;
}

export interface ListFilter {
  status?: TaskStatus;
  type?: string;
  owner?: string;
  limit: number;
  cursor?: { createdAt: Date; id: string };
}

/** Every task query, in the one SQL dialect PostgreSQL and CockroachDB share. */
export class TaskRepository {
  constructor(private readonly db: Database) {}

  /** Inserts tasks in one multi-row statement (group commit). */
  async insertMany(tasks: readonly TaskRecord[], q: Queryable = this.db): Promise<void> {
    if (tasks.length === 0) return;
    const params: unknown[] = [];
    const rows = tasks.map((t) => {
      const base = params.length;
      params.push(
        t.id, t.type, json(t.payload), t.status, t.priority, json(t.requirements), json(t.redundancy), t.attempts, t.maxAttempts, t.timeoutMs, t.owner, t.traceContext, t.createdAt,
        t.workflowId ?? null, t.workflowNode ?? null, t.workflowIndex ?? null, t.inputs ? json(t.inputs) : null, t.scheduleId ?? null, t.scheduleTickAt ?? null, t.runAt ?? null, t.tenant ?? t.owner, t.model ?? null,
      );
      return `($${base + 1}::uuid, $${base + 2}::text, $${base + 3}::jsonb, $${base + 4}::text, $${base + 5}::int, $${base + 6}::jsonb, $${base + 7}::jsonb, $${base + 8}::int, $${base + 9}::int, $${base + 10}::bigint, $${base + 11}::text, $${base + 12}::text, $${base + 13}::timestamptz, $${base + 13}::timestamptz, $${base + 14}::uuid, $${base + 15}::text, $${base + 16}::int, $${base + 17}::jsonb, $${base + 18}::uuid, $${base + 19}::timestamptz, $${base + 20}::timestamptz, $${base + 21}::text, $${base + 22}::text)`;
    });
    await q.query(
      `INSERT INTO tasks (id, type, payload, status, priority, requirements, redundancy, attempts, max_attempts, timeout_ms, owner, trace_context, created_at, updated_at, workflow_id, workflow_node, workflow_index, inputs, schedule_id, schedule_tick_at, run_at, tenant, model) VALUES ${rows.join(', ')}`,
      params,
    );
  }

  /**
   * Inserts tasks under an idempotency key; returns the ids of an earlier request with the same key,
   * if any. `alsoWrite` runs in the same transaction after the insert (the holds of held tasks).
   */
  async insertIdempotent(owner: string, key: string, tasks: readonly TaskRecord[], alsoWrite?: (q: Queryable) => Promise<void>): Promise<{ existing: string[] | null }> {
    return this.db.transaction(async (q) => {
      const claimed = await q.query(
        'INSERT INTO task_idempotency (owner, key, task_ids, created_at) VALUES ($1::text, $2::text, $3::jsonb, now()) ON CONFLICT (owner, key) DO NOTHING RETURNING key',
        [owner, key, json(tasks.map((t) => t.id))],
      );
      if (claimed.rowCount === 0) {
        const prior = await q.query<{ task_ids: string[] }>('SELECT task_ids FROM task_idempotency WHERE owner = $1 AND key = $2', [owner, key]);
        return { existing: prior.rows[0]?.task_ids ?? [] };
      }
      await this.insertMany(tasks, q);
      await alsoWrite?.(q);
      return { existing: null };
    });
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const r = await this.db.query<TaskRow>(`SELECT ${COLUMNS} FROM tasks WHERE id = $1::uuid`, [id]);
    return r.rows[0] ? fromRow(r.rows[0]) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<TaskRecord[]> {
    if (ids.length === 0) return [];
    const r = await this.db.query<TaskRow>(`SELECT ${COLUMNS} FROM tasks WHERE id = ANY($1::uuid[])`, [ids]);
    return r.rows.map(fromRow);
  }

  /** Newest first; the cursor is the (created_at, id) of the last item of the previous page. */
  async list(f: ListFilter): Promise<TaskRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => { params.push(v); where.push(sql.replace('?', `$${params.length}`)); };
    if (f.status) add('status = ?', f.status);
    if (f.type) add('type = ?', f.type);
    if (f.owner !== undefined) add('owner = ?', f.owner);
    const r = await this.db.query<TaskRow>(`SELECT ${COLUMNS} FROM tasks ${newestFirstPage(where, params, f.cursor, f.limit)}`, params);
    return r.rows.map(fromRow);
  }

  /**
   * Applies many guarded transitions in one statement; returns those that took effect. With a
   * `fence`, nothing is written unless that leader still holds the lease at that term: a deposed
   * leader that wakes up late cannot act.
   */
  async applyTransitions(list: readonly Transition[], fence?: LeaderFence): Promise<AppliedTransition[]> {
    if (list.length === 0) return [];
    const params: unknown[] = [];
    const rows = list.map((t) => {
      const b = params.length;
      const guard = compileGuard(t);
      params.push(
        t.id, [...guard.from], guard.to, t.expectedAttempts, guard.bump,
        t.an === undefined ? null : t.an, t.an !== undefined, t.ki === undefined ? null : t.ki, t.ki !== undefined,
        t.leaseMs === undefined ? null : t.leaseMs, t.leaseMs !== undefined,
        t.startedAt ?? null, t.finishedAt ?? null,
        t.outcome ? json(t.outcome.result ?? null) : null, t.outcome ? json(t.outcome.error) : null, t.outcome !== undefined,
        t.clearPublished ?? false, t.runAfterMs ?? null, t.gpus ? json(t.gpus) : null,
      );
      const p = (i: number) => `$${b + i}`;
      return `(${p(1)}::uuid, ${p(2)}::text[], ${p(3)}::text, ${p(4)}::int, ${p(5)}::bool, ${p(6)}::text, ${p(7)}::bool, ${p(8)}::text, ${p(9)}::bool, ${p(10)}::bigint, ${p(11)}::bool, ${p(12)}::timestamptz, ${p(13)}::timestamptz, ${p(14)}::jsonb, ${p(15)}::jsonb, ${p(16)}::bool, ${p(17)}::bool, ${p(18)}::bigint, ${p(19)}::jsonb)`;
    });
    const r = await this.db.query<{ id: string; attempts: number; status: TaskStatus }>(
      `UPDATE tasks AS t SET
         status = v.to_status,
         attempts = CASE WHEN v.bump THEN t.attempts + 1 ELSE t.attempts END,
         an = CASE WHEN v.set_an THEN v.an ELSE t.an END,
         ki = CASE WHEN v.set_ki THEN v.ki ELSE t.ki END,
         lease_expires_at = CASE WHEN NOT v.set_lease THEN t.lease_expires_at WHEN v.lease_ms IS NULL THEN NULL ELSE now() + v.lease_ms * interval '1 millisecond' END,
         started_at = COALESCE(v.started_at, t.started_at),
         finished_at = COALESCE(v.finished_at, t.finished_at),
         result = CASE WHEN v.set_outcome THEN v.result ELSE t.result END,
         error = CASE WHEN v.set_outcome THEN v.error ELSE t.error END,
         published_at = CASE WHEN v.clear_published THEN NULL ELSE t.published_at END,
         run_at = CASE WHEN v.run_after_ms IS NULL THEN t.run_at ELSE now() + v.run_after_ms * interval '1 millisecond' END,
         ${TRANSITION_LOG_SQL},
         updated_at = now()
       FROM (VALUES ${rows.join(', ')}) AS v(id, from_statuses, to_status, expected_attempts, bump, an, set_an, ki, set_ki, lease_ms, set_lease, started_at, finished_at, result, error, set_outcome, clear_published, run_after_ms, gpus)
       WHERE t.id = v.id AND t.status = ANY(v.from_statuses) AND t.attempts = v.expected_attempts${fence ? fenceClause(params, fence) : ''}
       RETURNING t.id, t.attempts, t.status`,
      params,
    );
    return r.rows;
  }

  /**
   * Marks tasks whose pending message the broker confirmed and that are still queued with the
   * attempts that message carried. Rows that moved on are not touched (and not locked): only a
   * task still waiting needs the mark. A task dispatched since (attempts grew) and taken back by
   * the leader is queued again under a new message, which this confirm does not vouch for.
   */
  async markPublished(published: readonly { id: string; attempts: number }[]): Promise<void> {
    if (published.length === 0) return;
    const params: unknown[] = [];
    const rows = published.map((p) => { params.push(p.id, p.attempts); return `($${params.length - 1}::uuid, $${params.length}::int)`; });
    await this.db.query(
      `UPDATE tasks AS t SET published_at = now() FROM (VALUES ${rows.join(', ')}) AS v(id, attempts)
       WHERE t.id = v.id AND t.attempts = v.attempts AND t.published_at IS NULL AND t.status = 'queued'`,
      params,
    );
  }

  /**
   * Puts queued tasks up for republishing (their pending message was dead-lettered); returns how
   * many were still queued. Tasks that moved on are left alone.
   */
  async markUnpublished(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const r = await this.db.query("UPDATE tasks SET published_at = NULL WHERE id = ANY($1::uuid[]) AND status = 'queued'", [ids]);
    return r.rowCount ?? 0;
  }

  /**
   * Queued tasks without a confirmed publish, older than `graceMs`, and due that long ago if they
   * waited for a time: a task the leader just released is being published already.
   */
  async findUnpublished(graceMs: number, limit: number): Promise<TaskRecord[]> {
    const r = await this.db.query<TaskRow>(
      `SELECT ${COLUMNS} FROM tasks WHERE published_at IS NULL AND status = 'queued' AND created_at < now() - $1::int8 * interval '1 millisecond'
       AND (run_at IS NULL OR run_at < now() - $1::int8 * interval '1 millisecond') ORDER BY created_at LIMIT $2::int8`,
      [graceMs, limit],
    );
    return r.rows.map(fromRow);
  }

  /** Renews the leases of tasks an An holds (rows that name it). */
  async renewLeases(an: string, ids: readonly string[], leaseMs: number): Promise<number> {
    if (ids.length === 0) return 0;
    const r = await this.db.query(
      `UPDATE tasks SET lease_expires_at = now() + $3::int8 * interval '1 millisecond' WHERE id = ANY($1::uuid[]) AND an = $2 AND status IN (${LEASED_SQL})`,
      [ids, an, leaseMs],
    );
    return r.rowCount;
  }

  /** Unfinished tasks one An holds (it died: the leader requeues them at once). */
  async findByAn(an: string, limit: number): Promise<TaskRecord[]> {
    const r = await this.db.query<TaskRow>(`SELECT ${COLUMNS} FROM tasks WHERE an = $1 AND status IN (${LEASED_SQL}) LIMIT $2::int8`, [an, limit]);
    return r.rows.map(fromRow);
  }

  /** Tasks whose lease expired (their An stopped renewing): only held ones carry a lease (see LEASED_STATUSES). */
  async findExpiredLeases(limit: number): Promise<TaskRecord[]> {
    const r = await this.db.query<TaskRow>(
      `SELECT ${COLUMNS} FROM tasks WHERE lease_expires_at < now() AND status IN (${LEASED_SQL}) ORDER BY lease_expires_at LIMIT $1::int8`,
      [limit],
    );
    return r.rows.map(fromRow);
  }

  /**
   * Scheduled tasks whose `runAt` has come, the most overdue first (the partial index on
   * `run_at` of scheduled rows serves it), with how late each is by the database's clock.
   */
  async findDue(limit: number): Promise<{ task: TaskRecord; lateMs: number }[]> {
    const r = await this.db.query<TaskRow & { late_ms: number | string }>(
      `SELECT ${COLUMNS}, (EXTRACT(EPOCH FROM (now() - run_at)) * 1000)::int8 AS late_ms FROM tasks
       WHERE status IN (${WAITING_SQL}) AND run_at <= now() ORDER BY run_at LIMIT $1::int8`,
      [limit],
    );
    return r.rows.map((row) => ({ task: fromRow(row), lateMs: Math.max(0, Number(row.late_ms)) }));
  }

  /** How many tasks wait for their `runAt` (the partial index on scheduled rows counts them). */
  /** Queued tasks per type and resource class with the oldest one's age ({@link readWaitingTasks}). */
  waitingTasks(limit: number): Promise<WaitingGroup[]> {
    return readWaitingTasks(this.db, limit);
  }

  async countScheduled(): Promise<number> {
    const r = await this.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM tasks WHERE status IN (${WAITING_SQL})`);
    return Number(r.rows[0]?.n ?? 0);
  }

  /** Changes the priority of a task no An holds yet (queued, or scheduled for later). */
  async setPriority(id: string, priority: number): Promise<TaskRecord | undefined> {
    const r = await this.db.query<TaskRow>(`UPDATE tasks SET priority = $2, updated_at = now() WHERE id = $1::uuid AND status IN (${REPRIORITIZABLE_SQL}) RETURNING ${COLUMNS}`, [id, priority]);
    return r.rows[0] ? fromRow(r.rows[0]) : undefined;
  }

  /**
   * Cancels a task that is not yet terminal (the `cancel` transition, at whatever attempt);
   * returns it as it was just before (for who to notify).
   */
  async cancel(id: string, reason: string): Promise<{ before: TaskRecord; after: TaskRecord } | undefined> {
    const r = await this.db.query<TaskRow & { prev_status: TaskStatus }>(
      `UPDATE tasks AS t SET status = '${TRANSITIONS.cancel.to}', error = $2::jsonb, finished_at = now(), updated_at = now(), lease_expires_at = NULL,
         ${CANCEL_LOG_SQL}
       FROM (SELECT id, status AS prev_status FROM tasks WHERE id = $1::uuid) AS p
       WHERE t.id = p.id AND t.status IN (${CANCELLABLE_SQL})
       RETURNING ${T_COLUMNS}, p.prev_status`,
      [id, json({ code: 'CANCELLED' satisfies ErrorCode, message: reason, retryable: false })],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    const after = fromRow(row);
    return { before: { ...after, status: row.prev_status }, after };
  }

  async saveProgress(items: readonly { id: string; attempts: number; progress: TaskProgress }[]): Promise<void> {
    if (items.length === 0) return;
    const params: unknown[] = [];
    const rows = items.map((it) => {
      params.push(it.id, it.attempts, json(it.progress));
      return `($${params.length - 2}::uuid, $${params.length - 1}::int, $${params.length}::jsonb)`;
    });
    await this.db.query(
      `UPDATE tasks AS t SET progress = v.progress FROM (VALUES ${rows.join(', ')}) AS v(id, attempts, progress)
       WHERE t.id = v.id AND t.attempts = v.attempts AND t.status IN (${HELD_SQL})`,
      params,
    );
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM tasks WHERE id = $1::uuid', [id]);
    return r.rowCount > 0;
  }

  /** Task counts by status (for /cluster). */
  async countByStatus(): Promise<Record<string, number>> {
    const r = await this.db.query<{ status: string; n: number }>('SELECT status, count(*) AS n FROM tasks GROUP BY status');
    return Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)]));
  }
}
