import type { CatchupPolicy, OverlapPolicy, RunOutcome } from '../schedule';
import type { Database } from './db';
import type { DueSchedule, ScheduleRecord } from './schedule-record';
import type { TaskRecord } from './task-record';
import type { TaskRepository } from './task-repository';
import { fenceClause, type LeaderFence } from './leader-fence';
import { newestFirstPage } from './newest-first-page';

interface ScheduleRow {
  id: string; owner: string; name: string; cron: string; timezone: string; task: Record<string, unknown>; overlap: OverlapPolicy; catchup: CatchupPolicy;
  paused: boolean; revision: number; next_run_at: Date; last_tick_at: Date | null; last_task_id: string | null; last_outcome: RunOutcome | null;
  last_run_at: Date | null; runs_created: number; runs_skipped: number; created_at: Date; updated_at: Date;
}

const COLUMNS = 'id, owner, name, cron, timezone, task, overlap, catchup, paused, revision, next_run_at, last_tick_at, last_task_id, last_outcome, last_run_at, runs_created, runs_skipped, created_at, updated_at';
const S_COLUMNS = COLUMNS.split(', ').map((c) => `s.${c}`).join(', ');

function fromRow(r: ScheduleRow): ScheduleRecord {
  return {
    id: r.id, owner: r.owner, name: r.name, cron: r.cron, timezone: r.timezone, task: r.task, overlap: r.overlap, catchup: r.catchup, paused: r.paused,
    revision: r.revision, nextRunAt: r.next_run_at,
    lastRun: r.last_tick_at && r.last_outcome ? { tickAt: r.last_tick_at, outcome: r.last_outcome, taskId: r.last_task_id, at: r.last_run_at ?? r.last_tick_at } : null,
    runsCreated: Number(r.runs_created), runsSkipped: Number(r.runs_skipped), createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

/** What a caller may change of a schedule's definition. */
export interface ScheduleChange {
  name?: string;
  cron?: string;
  timezone?: string;
  task?: Record<string, unknown>;
  overlap?: OverlapPolicy;
  catchup?: CatchupPolicy;
  /** Set with a new cron or timezone, or on resume: ticks are counted again from now. */
  nextRunAt?: Date;
  paused?: boolean;
}

export interface ScheduleListFilter {
  owner?: string;
  limit: number;
  cursor?: { createdAt: Date; id: string };
}

/**
 * One tick claim: the schedule as the ticker read it (`revision`, `lastTickAt`), the tick, and
 * either the task it creates or a skipped run.
 */
export interface TickClaim {
  scheduleId: string;
  revision: number;
  lastTickAt: Date | null;
  tickAt: Date;
  nextRunAt: Date;
  outcome: RunOutcome;
  /** The task of an `created` outcome; it carries `scheduleId` and `scheduleTickAt`. */
  task?: TaskRecord;
}

/** Schedule rows, in the SQL PostgreSQL and CockroachDB share. */
export class ScheduleRepository {
  constructor(private readonly db: Database, private readonly tasks: TaskRepository) {}

  /**
   * Stores a new schedule unless its owner has `maxPerOwner` already (`capped`), or an
   * Idempotency-Key of the same owner named one before (`existing`: that schedule's id).
   */
  async insert(s: ScheduleRecord, maxPerOwner: number, idempotencyKey?: string): Promise<{ existing?: string; capped?: number }> {
    return this.db.transaction(async (q) => {
      if (idempotencyKey) {
        const claimed = await q.query(
          'INSERT INTO schedule_idempotency (owner, key, schedule_id, created_at) VALUES ($1::text, $2::text, $3::uuid, now()) ON CONFLICT (owner, key) DO NOTHING RETURNING key',
          [s.owner, idempotencyKey, s.id],
        );
        if (claimed.rowCount === 0) {
          const prior = await q.query<{ schedule_id: string }>('SELECT schedule_id FROM schedule_idempotency WHERE owner = $1 AND key = $2', [s.owner, idempotencyKey]);
          return { existing: prior.rows[0]?.schedule_id ?? '' };
        }
      }
      const count = await q.query<{ n: number }>('SELECT count(*) AS n FROM schedules WHERE owner = $1', [s.owner]);
      const n = Number(count.rows[0]?.n ?? 0);
      // Thrown, not returned, so that the idempotency key claimed above is rolled back with it.
      if (n >= maxPerOwner) throw new ScheduleCapReached(n);
      await q.query(
        `INSERT INTO schedules (${COLUMNS}) VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::jsonb, $7::text, $8::text, $9::bool, 0, $10::timestamptz, NULL, NULL, NULL, NULL, 0, 0, $11::timestamptz, $11::timestamptz)`,
        [s.id, s.owner, s.name, s.cron, s.timezone, JSON.stringify(s.task), s.overlap, s.catchup, s.paused, s.nextRunAt, s.createdAt],
      );
      return {};
    }).catch((err: unknown) => {
      if (err instanceof ScheduleCapReached) return { capped: err.count };
      throw err;
    });
  }

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const r = await this.db.query<ScheduleRow>(`SELECT ${COLUMNS} FROM schedules WHERE id = $1::uuid`, [id]);
    return r.rows[0] ? fromRow(r.rows[0]) : undefined;
  }

  /** Newest first; the cursor is the (created_at, id) of the last item of the previous page. */
  async list(f: ScheduleListFilter): Promise<ScheduleRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.owner !== undefined) { params.push(f.owner); where.push(`owner = $${params.length}`); }
    const r = await this.db.query<ScheduleRow>(`SELECT ${COLUMNS} FROM schedules ${newestFirstPage(where, params, f.cursor, f.limit)}`, params);
    return r.rows.map(fromRow);
  }

  /** Applies a change and bumps the revision, so a tick claim read before it does not apply. */
  async update(id: string, c: ScheduleChange): Promise<ScheduleRecord | undefined> {
    const sets: string[] = ['revision = revision + 1', 'updated_at = now()'];
    const params: unknown[] = [id];
    const set = (column: string, value: unknown, cast = '') => { params.push(value); sets.push(`${column} = $${params.length}${cast}`); };
    if (c.name !== undefined) set('name', c.name);
    if (c.cron !== undefined) set('cron', c.cron);
    if (c.timezone !== undefined) set('timezone', c.timezone);
    if (c.task !== undefined) set('task', JSON.stringify(c.task), '::jsonb');
    if (c.overlap !== undefined) set('overlap', c.overlap);
    if (c.catchup !== undefined) set('catchup', c.catchup);
    if (c.nextRunAt !== undefined) set('next_run_at', c.nextRunAt, '::timestamptz');
    if (c.paused !== undefined) set('paused', c.paused, '::bool');
    const r = await this.db.query<ScheduleRow>(`UPDATE schedules SET ${sets.join(', ')} WHERE id = $1::uuid RETURNING ${COLUMNS}`, params);
    return r.rows[0] ? fromRow(r.rows[0]) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM schedules WHERE id = $1::uuid', [id]);
    return r.rowCount > 0;
  }

  /** Active schedules due by `now`, earliest first, with the status of their last run's task. */
  async findDue(now: Date, limit: number): Promise<DueSchedule[]> {
    const r = await this.db.query<ScheduleRow & { last_task_status: string | null }>(
      `SELECT ${S_COLUMNS}, t.status AS last_task_status FROM schedules s LEFT JOIN tasks t ON t.id = s.last_task_id
       WHERE s.paused = false AND s.next_run_at <= $1::timestamptz ORDER BY s.next_run_at LIMIT $2::int8`,
      [now, limit],
    );
    return r.rows.map((row) => ({ ...fromRow(row), lastTaskStatus: row.last_task_status }));
  }

  /**
   * Claims one tick and, for a `created` run, inserts its task, in one transaction: both or
   * neither. The claim holds only if the schedule is still as the ticker read it (same revision,
   * same last tick, not paused), the tick is later than the last one, and `fence` is the live
   * leader lease. The unique index on (schedule_id, schedule_tick_at) refuses a second task for a
   * tick even if all of that were bypassed. Returns false when the claim did not hold.
   */
  async claimTick(c: TickClaim, fence: LeaderFence): Promise<boolean> {
    return this.db.transaction(async (q) => {
      const params: unknown[] = [c.scheduleId, c.revision, c.lastTickAt, c.tickAt, c.nextRunAt, c.outcome, c.task?.id ?? null];
      const claimed = await q.query(
        `UPDATE schedules SET last_tick_at = $4::timestamptz, next_run_at = $5::timestamptz, last_outcome = $6::text,
           last_task_id = CASE WHEN $6::text = 'created' THEN $7::uuid ELSE last_task_id END, last_run_at = now(),
           runs_created = runs_created + CASE WHEN $6::text = 'created' THEN 1 ELSE 0 END,
           runs_skipped = runs_skipped + CASE WHEN $6::text = 'created' THEN 0 ELSE 1 END
         WHERE id = $1::uuid AND revision = $2::int AND NOT paused AND last_tick_at IS NOT DISTINCT FROM $3::timestamptz
           AND (last_tick_at IS NULL OR last_tick_at < $4::timestamptz)${fenceClause(params, fence)}
         RETURNING id`,
        params,
      );
      if (claimed.rowCount === 0) return false;
      if (c.outcome === 'created' && c.task) await this.tasks.insertMany([c.task], q);
      return true;
    });
  }

  /** Moves a schedule past ticks it drops (catch-up `none`), under the same guards as a claim. */
  async skipTo(c: { scheduleId: string; revision: number; lastTickAt: Date | null; nextRunAt: Date }, fence: LeaderFence): Promise<boolean> {
    const params: unknown[] = [c.scheduleId, c.revision, c.lastTickAt, c.nextRunAt];
    const r = await this.db.query(
      `UPDATE schedules SET next_run_at = $4::timestamptz
       WHERE id = $1::uuid AND revision = $2::int AND NOT paused AND last_tick_at IS NOT DISTINCT FROM $3::timestamptz${fenceClause(params, fence)}`,
      params,
    );
    return r.rowCount > 0;
  }

  /** Schedules by state, for the gauge. */
  async countByState(): Promise<{ active: number; paused: number }> {
    const r = await this.db.query<{ paused: boolean; n: number }>('SELECT paused, count(*) AS n FROM schedules GROUP BY paused');
    const of = (p: boolean) => Number(r.rows.find((x) => x.paused === p)?.n ?? 0);
    return { active: of(false), paused: of(true) };
  }
}

/** The owner's cap was reached inside the insert transaction. */
class ScheduleCapReached extends Error {
  constructor(readonly count: number) {
    super(`owner has ${count} schedules`);
  }
}
