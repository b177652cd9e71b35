import type { TaskErrorData } from '../protocol';
import type { TaskStatus } from '../task';
import type { RetriedRun, TaskProgress, TaskRecord } from './task-record';
import type { AttemptLogEntry } from './attempt-log';

/** A row of the tasks table as pg returns it. */
export interface TaskRow {
  id: string; type: string; payload: unknown; status: TaskStatus; priority: number; requirements: TaskRecord['requirements'];
  redundancy: TaskRecord['redundancy']; attempts: number; max_attempts: number; timeout_ms: number; result: unknown;
  error: TaskErrorData | null; progress: TaskProgress | null; owner: string; tenant?: string | null; model?: string | null; an: string | null; ki: string | null;
  trace_context: string | null; workflow_id: string | null; workflow_node: string | null; workflow_index: number | null;
  inputs: Record<string, unknown> | null; lease_expires_at?: Date | null; run_at?: Date | null; schedule_id?: string | null; schedule_tick_at?: Date | null;
  retry_history?: RetriedRun[] | null; attempt_log?: AttemptLogEntry[] | null;
  created_at: Date; updated_at: Date; started_at: Date | null; finished_at: Date | null;
}

/** Every column of a task, in the order fromRow reads them. */
export const COLUMNS = 'id, type, payload, status, priority, requirements, redundancy, attempts, max_attempts, timeout_ms, result, error, progress, owner, tenant, model, an, ki, trace_context, workflow_id, workflow_node, workflow_index, inputs, lease_expires_at, run_at, schedule_id, schedule_tick_at, retry_history, attempt_log, created_at, updated_at, started_at, finished_at';
export const T_COLUMNS = COLUMNS.split(', ').map((c) => `t.${c}`).join(', ');

/** A row as the record the rest of the platform uses. */
export function fromRow(r: TaskRow): TaskRecord {
  return {
    id: r.id, type: r.type, payload: r.payload, status: r.status, priority: r.priority, requirements: r.requirements,
    redundancy: r.redundancy, attempts: r.attempts, maxAttempts: r.max_attempts, timeoutMs: Number(r.timeout_ms), result: r.result,
    error: r.error, progress: r.progress, owner: r.owner, tenant: r.tenant ?? null, model: r.model ?? null, an: r.an, ki: r.ki, traceContext: r.trace_context,
    workflowId: r.workflow_id, workflowNode: r.workflow_node, workflowIndex: r.workflow_index, inputs: r.inputs, leaseExpiresAt: r.lease_expires_at ?? null, runAt: r.run_at ?? null,
    scheduleId: r.schedule_id ?? null, scheduleTickAt: r.schedule_tick_at ?? null, retryHistory: r.retry_history ?? null, attemptLog: r.attempt_log ?? null,
    createdAt: r.created_at, updatedAt: r.updated_at, startedAt: r.started_at, finishedAt: r.finished_at,
  };
}

/** JSONB parameters travel as text: pg would otherwise send a JS array as a PostgreSQL array. */
export const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

