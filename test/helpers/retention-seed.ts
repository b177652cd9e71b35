import { randomUUID } from 'node:crypto';
import type { Queryable, TaskRecord } from '../../src/store';
import { TaskRepository, type Database } from '../../src/store';
import { queuedTaskRecord } from './task-record';

const DAY_MS = 24 * 3600 * 1000;

/** Ids of the tasks {@link seedRetentionCase} stored, by what retention must do with them. */
export interface RetentionCase {
  /** Finished long ago, plain or of an ended workflow: retention deletes them. */
  old: string[];
  /** Finished, but recently. */
  young: string[];
  /** Created long ago and not finished (queued, running, scheduled). */
  unfinished: string[];
  /** Finished long ago, but a step of a workflow that still runs. */
  ofRunningWorkflow: string[];
  /** Idempotency keys (owner `alice`) written long ago and just now. */
  oldKey: string;
  youngKey: string;
}

async function backdate(q: Queryable, ids: readonly string[], finishedDaysAgo: number | null, createdDaysAgo: number): Promise<void> {
  await q.query(
    `UPDATE tasks SET created_at = now() - $2::int8 * interval '1 millisecond',
       finished_at = CASE WHEN $3::int8 IS NULL THEN NULL ELSE now() - $3::int8 * interval '1 millisecond' END WHERE id = ANY($1::uuid[])`,
    [ids, createdDaysAgo * DAY_MS, finishedDaysAgo === null ? null : finishedDaysAgo * DAY_MS],
  );
}

async function insertWorkflow(q: Queryable, status: string): Promise<string> {
  const id = randomUUID();
  await q.query(
    "INSERT INTO workflows (id, owner, name, status, created_at, updated_at) VALUES ($1::uuid, 'alice', 'wf', $2::text, now(), now())",
    [id, status],
  );
  return id;
}

/**
 * Stores one task of each kind retention must tell apart (ages in days; retention age 30 days),
 * and, unless `leader` is null (a real principal leads), a leader lease held by `leader` at term 1,
 * so fenced deletes apply.
 */
export async function seedRetentionCase(db: Database, leader: string | null = 'leader-1'): Promise<RetentionCase> {
  const repo = new TaskRepository(db);
  const done = (status: TaskRecord['status'], over: Partial<TaskRecord> = {}) => queuedTaskRecord({ status, result: { ok: true }, ...over });
  const running = await insertWorkflow(db, 'running');
  const ended = await insertWorkflow(db, 'succeeded');
  const oldTasks = [done('succeeded'), done('failed'), done('cancelled'), done('succeeded', { workflowId: ended, workflowNode: 'a', workflowIndex: 0 })];
  const youngTasks = [done('succeeded'), done('failed')];
  const unfinishedTasks = [queuedTaskRecord(), queuedTaskRecord({ status: 'running' }), queuedTaskRecord({ status: 'scheduled', runAt: new Date(Date.now() + DAY_MS) })];
  const runningWfTasks = [done('succeeded', { workflowId: running, workflowNode: 'a', workflowIndex: 0 })];
  await repo.insertMany([...oldTasks, ...youngTasks, ...unfinishedTasks, ...runningWfTasks]);
  const ids = (ts: TaskRecord[]) => ts.map((t) => t.id);
  await backdate(db, [...ids(oldTasks), ...ids(runningWfTasks)], 40, 41);
  await backdate(db, ids(youngTasks), 1, 41);
  await backdate(db, ids(unfinishedTasks), null, 60);
  const oldKey = `old-${randomUUID()}`;
  const youngKey = `young-${randomUUID()}`;
  await db.query("INSERT INTO task_idempotency (owner, key, task_ids, created_at) VALUES ('alice', $1::text, '[]'::jsonb, now() - interval '45 days')", [oldKey]);
  await db.query("INSERT INTO task_idempotency (owner, key, task_ids, created_at) VALUES ('alice', $1::text, '[]'::jsonb, now())", [youngKey]);
  if (leader !== null) await db.query(
    `INSERT INTO leader_lease (name, holder, term, expires_at) VALUES ('principal', $1::text, 1, now() + interval '1 hour')
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, term = excluded.term, expires_at = excluded.expires_at`,
    [leader],
  );
  return { old: ids(oldTasks), young: ids(youngTasks), unfinished: ids(unfinishedTasks), ofRunningWorkflow: ids(runningWfTasks), oldKey, youngKey };
}

/** Retention age of {@link seedRetentionCase}: 30 days. */
export const RETENTION_CASE_AGE_MS = 30 * DAY_MS;

/** Which of `ids` are still stored. */
export async function storedIds(db: Queryable, ids: readonly string[]): Promise<Set<string>> {
  const r = await db.query<{ id: string }>('SELECT id FROM tasks WHERE id = ANY($1::uuid[])', [ids]);
  return new Set(r.rows.map((x) => x.id));
}

/** Which idempotency keys of owner `alice` are stored. */
export async function storedKeys(db: Queryable): Promise<Set<string>> {
  const r = await db.query<{ key: string }>("SELECT key FROM task_idempotency WHERE owner = 'alice'");
  return new Set(r.rows.map((x) => x.key));
}
