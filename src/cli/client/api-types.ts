/** The REST API's JSON as the client reads it (DESIGN.md "REST API"); kept apart from the server's domain types. */

/** Status of a task as the API spells it. */
export type ApiTaskStatus = 'scheduled' | 'queued' | 'dispatched' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Statuses a task never leaves. */
export const TERMINAL: readonly ApiTaskStatus[] = ['succeeded', 'failed', 'cancelled'];

/** Why a task failed or was cancelled. */
export interface ApiTaskError {
  code: string;
  message: string;
  retryable: boolean;
  details?: unknown;
}

/** A task as GET /tasks/{id} returns it. */
export interface ApiTask {
  id: string;
  type: string;
  payload: unknown;
  status: ApiTaskStatus;
  priority: number;
  requirements: { gpus: number; gpuMemoryMiB: number; labels: string[] };
  redundancy?: { replicas: number; quorum: number };
  attempts: number;
  maxAttempts: number;
  timeoutMs: number;
  result: unknown;
  error: ApiTaskError | null;
  progress: { fraction: number; message?: string; atMs: number } | null;
  owner: string;
  an: string | null;
  ki: string | null;
  /** The schedule whose run created the task, and the tick it stands for (null: submitted directly). */
  scheduleId?: string | null;
  scheduleTickAt?: string | null;
  /** When a task that waits for a time is due (a delayed submission, or a retry's backoff); null when it never waited. */
  runAt?: string | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** One page of GET /tasks. */
export interface ApiTaskPage {
  items: ApiTask[];
  nextCursor: string | null;
}

/** A GPU as a Ki advertises it. */
export interface ApiGpu {
  index: number;
  uuid: string;
  name: string;
  memoryMiB: number;
  memoryUsedMiB: number;
  utilizationPct?: number;
}

/** A cluster member as GET /nodes returns it. */
export interface ApiNode {
  id: string;
  role: string;
  status: string;
  group: string;
  leader: boolean;
  load: number;
  slots: { total: number; busy: number };
  gpus: ApiGpu[];
  quarantined?: boolean;
  lastSeen: string;
}

/** application/problem+json */
export interface ApiProblem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
}

/** A task submission (POST /tasks). */
export interface SubmitBody {
  type: string;
  payload?: unknown;
  priority?: number;
  timeoutMs?: number;
  maxAttempts?: number;
  requirements?: { gpus: number };
  /** Start no sooner than this many ms from now. */
  delayMs?: number;
  /** Start no sooner than this RFC 3339 time. */
  runAt?: string;
}

/** One node of a workflow as `GET /workflows/{id}` shows it. */
export interface ApiWorkflowNode {
  key: string;
  type: string | null;
  dependsOn: string[];
  map: { over: string } | null;
  status: 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
  reason: string | null;
  taskIds: string[];
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A workflow: list items leave out `nodes`. */
export interface ApiWorkflow {
  id: string;
  name: string | null;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  reason: string | null;
  owner: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  nodes?: ApiWorkflowNode[];
}

export interface ApiWorkflowPage {
  items: ApiWorkflow[];
  nextCursor: string | null;
}
