import type { TaskStatus } from '../task';

/** Entries a task's attempt log keeps: the oldest goes first (a task retried many times keeps its latest story). */
export const ATTEMPT_LOG_MAX = 64;
/** Characters of an error message the log keeps (the task's `error` keeps the whole last one). */
const MESSAGE_MAX = 500;

/** One state change of a task, as its attempt log keeps it. */
export interface AttemptLogEntry {
  status: TaskStatus;
  /** The attempt the task was at after the change (a dispatch starts the next one). */
  attempt: number;
  /** When the store made the change (the database's clock). */
  at: string;
  an?: string;
  /** Kis of the attempt, comma-separated for replicas. */
  ki?: string;
  /** GPU indices the attempt was given, by Ki. */
  gpus?: Record<string, number[]>;
  error?: { code: string; message: string };
}

/** SQL expressions (over the row `t` before the change) for the fields of a new entry. */
export interface AttemptLogFields {
  status: string;
  attempt: string;
  an: string;
  ki: string;
  gpus?: string;
  /** A JSONB task error, or SQL NULL / JSON null for none. */
  error?: string;
}

/**
 * The `attempt_log = …` assignment of an UPDATE that changes a task's state: the log with one
 * entry appended (the oldest dropped past {@link ATTEMPT_LOG_MAX}). Written in the same statement
 * as the change, so it cannot disagree with the row; plain JSONB functions that PostgreSQL and
 * CockroachDB both have.
 */
export function appendAttemptLogSql(f: AttemptLogFields): string {
  const log = "COALESCE(t.attempt_log, '[]'::jsonb)";
  const error = f.error
    ? `CASE WHEN jsonb_typeof(${f.error}) = 'object' THEN jsonb_build_object('code', ${f.error}->>'code', 'message', left(${f.error}->>'message', ${MESSAGE_MAX})) END`
    : 'NULL::jsonb';
  return `attempt_log = (CASE WHEN jsonb_array_length(${log}) >= ${ATTEMPT_LOG_MAX} THEN ${log} - 0 ELSE ${log} END)
           || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object('status', ${f.status}, 'attempt', ${f.attempt}, 'at', now(),
                'an', ${f.an}, 'ki', ${f.ki}, 'gpus', ${f.gpus ?? 'NULL::jsonb'}, 'error', ${error})))`;
}
