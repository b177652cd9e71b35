import type { Database } from './db';
import { fenceClause, type LeaderFence } from './leader-fence';
import type { TaskRecord } from './task-record';
import { COLUMNS, fromRow, type TaskRow } from './task-row';
import { sqlStates } from './transition-guard';
import { TERMINAL_STATUSES } from '../task';

const TERMINAL_SQL = sqlStates(TERMINAL_STATUSES);

/**
 * A task retention may delete (`$1`: the age in milliseconds): finished, longer ago than the age,
 * and not a step of a workflow that still runs. A running workflow reads its finished steps'
 * results to start the next ones, so those stay until the workflow ends. Schedules need no
 * finished task: a schedule whose last task is gone counts it as finished (see ScheduleTicker).
 */
const EXPIRED_TASK = `t.status IN (${TERMINAL_SQL}) AND t.finished_at < now() - $1::int8 * interval '1 millisecond'
  AND (t.workflow_id IS NULL OR NOT EXISTS (SELECT 1 FROM workflows w WHERE w.id = t.workflow_id AND w.status = 'running'))`;

/**
 * The leader's retention queries, in the SQL PostgreSQL and CockroachDB share: no `DELETE ...
 * LIMIT` (PostgreSQL has none), so each batch is chosen by a `LIMIT`-ed select on the indexes of
 * migration 009 and deleted by key.
 */
export class RetentionRepository {
  constructor(private readonly db: Database) {}

  /** Ids of the oldest expired tasks, at most `limit`. */
  async expiredTaskIds(maxAgeMs: number, limit: number): Promise<string[]> {
    const r = await this.db.query<{ id: string }>(
      `SELECT t.id FROM tasks t WHERE t.finished_at IS NOT NULL AND ${EXPIRED_TASK} ORDER BY t.finished_at LIMIT $2::int8`,
      [maxAgeMs, limit],
    );
    return r.rows.map((x) => x.id);
  }

  /** The oldest expired tasks in full (for the export), at most `limit`. */
  async expiredTasks(maxAgeMs: number, limit: number): Promise<TaskRecord[]> {
    const r = await this.db.query<TaskRow>(
      `SELECT ${COLUMNS} FROM tasks t WHERE t.finished_at IS NOT NULL AND ${EXPIRED_TASK} ORDER BY t.finished_at LIMIT $2::int8`,
      [maxAgeMs, limit],
    );
    return r.rows.map(fromRow);
  }

  /**
   * Deletes those of `ids` that are still expired, only while `fence` leads; returns the ids
   * deleted. The rule is checked again in the delete itself, so whatever changed since the select
   * (a task deleted through the API, a lost lease) is decided by the statement that writes.
   */
  async deleteExpiredTasks(ids: readonly string[], maxAgeMs: number, fence: LeaderFence): Promise<string[]> {
    if (ids.length === 0) return [];
    const params: unknown[] = [maxAgeMs, ids];
    const r = await this.db.query<{ id: string }>(
      `DELETE FROM tasks AS t WHERE t.id = ANY($2::uuid[]) AND ${EXPIRED_TASK}${fenceClause(params, fence)} RETURNING t.id`,
      params,
    );
    return r.rows.map((x) => x.id);
  }

  /**
   * Deletes up to `limit` idempotency keys older than the age, only while `fence` leads; returns
   * how many. A key is written with its tasks, before they finish, so the key of every task
   * retention deletes is older than the age too and goes in a pass of this: a repeated request
   * with that key is then a new request.
   */
  async deleteExpiredKeys(maxAgeMs: number, limit: number, fence: LeaderFence): Promise<number> {
    const params: unknown[] = [maxAgeMs, limit];
    const r = await this.db.query(
      `DELETE FROM task_idempotency WHERE (owner, key) IN (
         SELECT owner, key FROM task_idempotency WHERE created_at < now() - $1::int8 * interval '1 millisecond' ORDER BY created_at LIMIT $2::int8
       )${fenceClause(params, fence)}`,
      params,
    );
    return r.rowCount;
  }
}
