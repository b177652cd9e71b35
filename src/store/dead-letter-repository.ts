import { randomUUID } from 'node:crypto';
import type { Database } from './db';
import { newestFirstPage, type PageCursor } from './newest-first-page';
import { json } from './task-row';

/** A dead letter as the intake stores it. */
export interface NewDeadLetter {
  /** `task:<id>` for a failed task, `message:<id>` (or `body:<sha256>`) for a dead-lettered message: one row each. */
  dedupKey: string;
  /** The failed task, checked against the store; null for a message that names none it could confirm. */
  taskId: string | null;
  /** Task ids a message names in clear, unverified (a refused pending message names its tasks). */
  claimedTaskIds: string[] | null;
  /** The message type as sent (clear, unverified). */
  messageType: string;
  /** `failed` for a task that failed for good; else the broker's dead-letter reason (`rejected`, `expired`, `maxlen`, `delivery_limit`). */
  reason: string;
  errorCode: string | null;
  errorMessage: string | null;
  sourceQueue: string | null;
  /** The sender the message names in clear (unverified). */
  sender: string | null;
  attempts: number | null;
  bodyBytes: number;
}

/** A stored dead letter. */
export interface DeadLetterRecord extends NewDeadLetter {
  id: string;
  /** How often it came: a message's copies, a task's failed runs. */
  count: number;
  createdAt: Date;
  lastSeenAt: Date;
}

interface DeadLetterRow {
  id: string; dedup_key: string; task_id: string | null; claimed_task_ids: string[] | null; message_type: string; reason: string; error_code: string | null;
  error_message: string | null; source_queue: string | null; sender: string | null; attempts: number | null; body_bytes: number; count: number;
  created_at: Date; last_seen_at: Date;
}

const COLUMNS = 'id, dedup_key, task_id, claimed_task_ids, message_type, reason, error_code, error_message, source_queue, sender, attempts, body_bytes, count, created_at, last_seen_at';

/** Rows one trim deletes at most: a large backlog is trimmed over several letters, each statement short. */
const TRIM_BATCH = 10_000;

function fromRow(r: DeadLetterRow): DeadLetterRecord {
  return {
    id: r.id, dedupKey: r.dedup_key, taskId: r.task_id, claimedTaskIds: r.claimed_task_ids, messageType: r.message_type, reason: r.reason, errorCode: r.error_code,
    errorMessage: r.error_message, sourceQueue: r.source_queue, sender: r.sender, attempts: r.attempts, bodyBytes: Number(r.body_bytes), count: Number(r.count),
    createdAt: r.created_at, lastSeenAt: r.last_seen_at,
  };
}

/** A dead letter as REST returns it. */
export function toApiDeadLetter(d: DeadLetterRecord) {
  return {
    id: d.id, taskId: d.taskId, claimedTaskIds: d.claimedTaskIds ?? [], messageType: d.messageType, reason: d.reason,
    error: d.errorCode || d.errorMessage ? { code: d.errorCode, message: d.errorMessage } : null,
    sourceQueue: d.sourceQueue, sender: d.sender, attempts: d.attempts, bodyBytes: d.bodyBytes, count: d.count,
    redrivable: d.taskId !== null, firstSeenAt: d.createdAt.toISOString(), lastSeenAt: d.lastSeenAt.toISOString(),
  };
}
export type ApiDeadLetter = ReturnType<typeof toApiDeadLetter>;

/** The dead letters operators list and re-drive, in the SQL PostgreSQL and CockroachDB share. */
export class DeadLetterRepository {
  /** The first-seen time of the last letter this process stored. */
  #lastCreatedMs = 0;

  constructor(private readonly db: Database) {}

  /**
   * A first-seen time in whole milliseconds, as the page cursor carries it (a finer database time
   * would make a cursor skip rows of its millisecond), later than the one before in this process.
   */
  #createdAt(): Date {
    this.#lastCreatedMs = Math.max(Date.now(), this.#lastCreatedMs + 1);
    return new Date(this.#lastCreatedMs);
  }

  /**
   * Stores a dead letter, or counts it again when its key is stored already: a message each time
   * it comes (a redelivered copy, the same message dead-lettered again), a task once per failed
   * run (its note and the leader's record of the same failure are one). Resolves whether it made
   * a new row.
   */
  async record(d: NewDeadLetter): Promise<boolean> {
    const r = await this.db.query<{ count: number }>(
      `INSERT INTO dead_letters (${COLUMNS})
       VALUES ($1::uuid, $2::text, $3::uuid, $4::jsonb, $5::text, $6::text, $7::text, $8::text, $9::text, $10::text, $11::int, $12::int, 1, $13::timestamptz, $13::timestamptz)
       ON CONFLICT (dedup_key) DO UPDATE SET last_seen_at = excluded.last_seen_at,
         count = dead_letters.count + CASE WHEN excluded.task_id IS NULL OR dead_letters.attempts IS DISTINCT FROM excluded.attempts THEN 1 ELSE 0 END, reason = excluded.reason,
         error_code = excluded.error_code, error_message = excluded.error_message, attempts = excluded.attempts
       RETURNING count`,
      [randomUUID(), d.dedupKey, d.taskId, d.claimedTaskIds ? json(d.claimedTaskIds) : null, d.messageType, d.reason, d.errorCode, d.errorMessage, d.sourceQueue, d.sender, d.attempts, d.bodyBytes, this.#createdAt()],
    );
    return Number(r.rows[0]?.count ?? 0) === 1;
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    const r = await this.db.query<DeadLetterRow>(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1::uuid`, [id]);
    return r.rows[0] ? fromRow(r.rows[0]) : undefined;
  }

  /** Newest first (by when each was first seen); the cursor is the last item of the page before. */
  async list(f: { limit: number; cursor?: PageCursor }): Promise<DeadLetterRecord[]> {
    const params: unknown[] = [];
    const r = await this.db.query<DeadLetterRow>(`SELECT ${COLUMNS} FROM dead_letters ${newestFirstPage([], params, f.cursor, f.limit)}`, params);
    return r.rows.map(fromRow);
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM dead_letters WHERE id = $1::uuid', [id]);
    return r.rowCount > 0;
  }

  /** Drops the dead letters of a task that runs again. */
  async deleteForTask(taskId: string): Promise<number> {
    const r = await this.db.query('DELETE FROM dead_letters WHERE task_id = $1::uuid', [taskId]);
    return r.rowCount;
  }

  async count(): Promise<number> {
    const r = await this.db.query<{ n: number | string }>('SELECT count(*) AS n FROM dead_letters');
    return Number(r.rows[0]?.n ?? 0);
  }

  /** Drops the oldest dead letters beyond the newest `keep` (a bounded batch per call); returns how many went. */
  async trim(keep: number): Promise<number> {
    const r = await this.db.query(
      'DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters ORDER BY created_at DESC, id DESC OFFSET $1::int8 LIMIT $2::int8)',
      [keep, TRIM_BATCH],
    );
    return r.rowCount;
  }
}
