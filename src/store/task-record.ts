import type { Requirements, TaskErrorData, TaskSpec } from '../protocol';
import type { TaskStatus } from '../task';
import type { AttemptLogEntry } from './attempt-log';

/** Retried runs a task keeps in its history: a task retried more often keeps the newest. */
export const RETRY_HISTORY_MAX = 20;

export interface TaskProgress {
  fraction: number;
  message?: string;
  atMs: number;
}

/** One run of a task that a caller retried: how it ended, and who retried it when. */
export interface RetriedRun {
  /** Which retry this was (1 for the first). */
  retry: number;
  /** The attempts the task had used, and was allowed, when that run ended. */
  attempts: number;
  maxAttempts: number;
  /** Why that run failed. */
  error: TaskErrorData | null;
  finishedAt: string | null;
  retriedAt: string;
  /** The subject of the token that asked for the retry. */
  retriedBy: string;
}

/** A task as the store keeps it. */
export interface TaskRecord {
  id: string;
  type: string;
  payload: unknown;
  status: TaskStatus;
  priority: number;
  requirements: Requirements;
  redundancy: { replicas: number; quorum: number } | null;
  attempts: number;
  maxAttempts: number;
  timeoutMs: number;
  result: unknown;
  error: TaskErrorData | null;
  progress: TaskProgress | null;
  owner: string;
  /** The deployed model the task runs on (`ctx.model` in its handler); absent or null: none. */
  model?: string | null;
  /** Whose shares and caps the task counts against (the submitter's tenant claim); absent or null: its owner. */
  tenant?: string | null;
  an: string | null;
  ki: string | null;
  traceContext: string | null;
  /** The workflow that created this task (absent or null for a task submitted on its own). */
  workflowId?: string | null;
  /** The workflow node this task runs, and which element of a mapped node (0 otherwise). */
  workflowNode?: string | null;
  workflowIndex?: number | null;
  /** A workflow task's upstream results, by dependency key; absent for ordinary tasks. */
  inputs?: Record<string, unknown> | null;
  /** Until when the An that dispatched it is presumed alive (renewed while it runs). */
  leaseExpiresAt?: Date | null;
  /** The schedule whose run created it (absent or null: submitted directly). */
  scheduleId?: string | null;
  /** The tick of that schedule it stands for. */
  scheduleTickAt?: Date | null;
  /** When a task that waits for a time is due (a delayed submission, or a retry's backoff); null when it never waited. */
  runAt?: Date | null;
  /** The runs a caller retried, oldest first (the newest {@link RETRY_HISTORY_MAX} of them); absent or null when never retried. */
  retryHistory?: RetriedRun[] | null;
  /** Each state change with its attempt, An, Ki, GPUs and error, oldest first; absent or null for tasks stored before the log. */
  attemptLog?: AttemptLogEntry[] | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** The wire spec of a stored task (what a pending message carries). */
export function specOf(t: TaskRecord): TaskSpec {
  return {
    id: t.id, type: t.type, payload: t.payload, priority: t.priority, requirements: t.requirements, timeoutMs: t.timeoutMs,
    maxAttempts: t.maxAttempts, owner: t.owner, createdAtMs: t.createdAt.getTime(), redundancy: t.redundancy,
    ...(t.inputs ? { inputs: t.inputs } : {}),
    ...(t.model ? { model: t.model } : {}),
  };
}

/** The task as REST returns it (DESIGN.md field names). */
export function toApiTask(t: TaskRecord) {
  const traceId = traceIdOf(t.traceContext);
  return {
    id: t.id, type: t.type, payload: t.payload, status: t.status, priority: t.priority, requirements: t.requirements,
    ...(t.redundancy ? { redundancy: t.redundancy } : {}),
    attempts: t.attempts, maxAttempts: t.maxAttempts, timeoutMs: t.timeoutMs, result: t.result ?? null, error: t.error ?? null,
    progress: t.progress ?? null, owner: t.owner, tenant: t.tenant ?? t.owner, an: t.an, ki: t.ki, runAt: t.runAt?.toISOString() ?? null,
    scheduleId: t.scheduleId ?? null, scheduleTickAt: t.scheduleTickAt?.toISOString() ?? null, workflowId: t.workflowId ?? null,
    createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString(),
    startedAt: t.startedAt?.toISOString() ?? null, finishedAt: t.finishedAt?.toISOString() ?? null,
    ...(t.retryHistory?.length ? { retryHistory: t.retryHistory } : {}),
    ...(t.attemptLog?.length ? { attemptLog: t.attemptLog } : {}),
    ...(traceId ? { traceId } : {}),
    ...(t.model ? { model: t.model } : {}),
  };
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id of a W3C traceparent (the task's own trace), for a link to the tracing UI. */
function traceIdOf(traceparent: string | null): string | undefined {
  const id = traceparent ? TRACEPARENT.exec(traceparent)?.[1] : undefined;
  return id && !/^0+$/.test(id) ? id : undefined;
}
export type ApiTask = ReturnType<typeof toApiTask>;
