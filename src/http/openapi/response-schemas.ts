import { z } from 'zod';
import { redundancySchema } from '../../protocol';
import { CATCHUP_POLICIES, OVERLAP_POLICIES, RUN_OUTCOMES } from '../../schedule';
import type { ApiSchedule, ApiTask } from '../../store';
import { TASK_STATUSES } from '../../task';
import { NODE_STATUSES, WORKFLOW_STATUSES } from '../../workflow';

/**
 * The JSON the REST API answers with, as zod schemas: the published document describes them and
 * the e2e suite checks every answer against them. The server does not validate its own answers at
 * run time; the type checks at the end of this file keep the mappers (`toApiTask`, ...) in line.
 */

const instant = z.iso.datetime();
const nullableInstant = instant.nullable();
const cursor = z.string().nullable().describe('Opaque cursor of the next page; null on the last page.');

/** A task's resource needs as stored: defaults applied. */
const requirements = z.object({
  gpus: z.number().int().min(0),
  gpuMemoryMiB: z.number().int().min(0),
  labels: z.array(z.string()),
}).strict();

const taskError = z.object({ code: z.string(), message: z.string(), retryable: z.boolean(), details: z.unknown().optional() }).strict();
const progress = z.object({ fraction: z.number().min(0).max(1), message: z.string().optional(), atMs: z.number().int() }).strict();

const retriedRun = z.object({
  retry: z.number().int(), attempts: z.number().int(), maxAttempts: z.number().int(), error: taskError.nullable(),
  finishedAt: nullableInstant, retriedAt: instant, retriedBy: z.string(),
}).strict();

const attemptLogEntry = z.object({
  status: z.enum(TASK_STATUSES), attempt: z.number().int().min(0), at: z.string().describe('When the store made the change.'),
  an: z.string().optional(), ki: z.string().optional(), gpus: z.record(z.string(), z.array(z.number().int())).optional().describe('GPU indices given to the attempt, by Ki.'),
  error: z.object({ code: z.string().nullable(), message: z.string().nullable() }).strict().optional(),
}).strict();

/** `GET /tasks/{id}`: a task with its state, attempts, result or error. */
export const taskSchema = z.object({
  id: z.uuid(),
  type: z.string(),
  payload: z.unknown().describe('The submitted payload; list items leave it out unless `include=payload`.'),
  status: z.enum(TASK_STATUSES),
  priority: z.number().int().min(0).max(9),
  requirements,
  redundancy: redundancySchema.optional().describe('Present when the task runs on several Kis and needs a quorum of equal results.'),
  attempts: z.number().int().min(0),
  maxAttempts: z.number().int().min(1),
  timeoutMs: z.number().int(),
  result: z.unknown().describe('The result of a succeeded task, else null; list items leave it out unless `include=result`.'),
  error: taskError.nullable(),
  progress: progress.nullable(),
  owner: z.string(),
  tenant: z.string().describe('The tenant the task counts for: its submitter\'s `tenant` claim, else its owner.'),
  an: z.string().nullable(),
  ki: z.string().nullable(),
  runAt: nullableInstant.describe('When a task that waits for a time is due; null when it never waited.'),
  scheduleId: z.uuid().nullable(),
  scheduleTickAt: nullableInstant,
  workflowId: z.uuid().nullable(),
  createdAt: instant,
  updatedAt: instant,
  startedAt: nullableInstant,
  finishedAt: nullableInstant,
  model: z.string().optional().describe('The deployed model the task runs on, when it names one.'),
  retryHistory: z.array(retriedRun).optional().describe('Earlier runs of a task retried with POST /tasks/{id}/retry, newest last.'),
  attemptLog: z.array(attemptLogEntry).optional().describe('The task\'s story: each state change with its attempt, An, Ki, GPUs and error, oldest first (the newest 64). Only `GET /tasks/{id}` and the answers about one task carry it, not list items.'),
  traceId: z.string().regex(/^[0-9a-f]{32}$/).optional().describe('The task\'s trace (W3C trace id), for a link to the tracing UI.'),
}).strict();

/** A list item of `GET /tasks`: `payload` and `result` only when asked for with `include`. */
export const taskListItemSchema = taskSchema.partial({ payload: true, result: true });
export const taskPageSchema = z.object({ items: z.array(taskListItemSchema), nextCursor: cursor }).strict();
export const batchIdsSchema = z.object({ ids: z.array(z.uuid()).describe('The ids of the batch\'s tasks, in the order submitted.') }).strict();

const gpu = z.object({
  index: z.number().int(), uuid: z.string(), name: z.string(), memoryMiB: z.number(), memoryUsedMiB: z.number(), utilizationPct: z.number().optional(),
  eccUncorrected: z.number().int().optional().describe('Uncorrected ECC errors since the driver loaded (cards with ECC).'),
  health: z.enum(['ok', 'failed']).optional().describe('failed: the Ki saw the GPU fail; it takes no new work.'),
  healthReason: z.string().optional(),
}).strict();

/** A member of the cluster as its heartbeats describe it. */
export const nodeSchema = z.object({
  id: z.string(),
  role: z.enum(['principal', 'an', 'ki', 'standalone']),
  status: z.enum(['alive', 'suspect', 'dead', 'left']),
  group: z.string(),
  leader: z.boolean(),
  load: z.number(),
  slots: z.object({ total: z.number().int(), busy: z.number().int() }).strict(),
  gpus: z.array(gpu),
  types: z.array(z.string()),
  labels: z.array(z.string()),
  version: z.string(),
  instance: z.string().optional(),
  quarantined: z.boolean(),
  stableId: z.string().optional().describe('The identity cordons, drains, benches and reputation are kept under.'),
  state: z.enum(['active', 'cordoned', 'draining']).optional(),
  drained: z.boolean().optional(),
  stateReason: z.string().optional(),
  stateChangedBy: z.string().optional(),
  stateChangedAt: instant.optional(),
  benched: z.boolean().optional().describe('Taken out of placement by the circuit breaker (repeated timeouts or crashes) until benchedUntil.'),
  benchedUntil: instant.optional(),
  benchReason: z.string().optional(),
  startedAt: instant,
  lastSeen: instant,
}).strict();
export const nodeListSchema = z.object({ items: z.array(nodeSchema) }).strict();
export const nodeReleasedSchema = z.object({ id: z.string(), quarantined: z.literal(false) }).strict();

/** `GET /cluster`: leader, member counts, task counts, queue depths and groups. */
export const clusterSummarySchema = z.object({
  leader: z.object({ id: z.string(), term: z.number().int() }).strict().nullable(),
  self: z.string(),
  admitted: z.number().int().describe('Submissions this principal holds until they are published.'),
  nodes: z.record(z.string(), z.record(z.string(), z.number().int())).describe('Member counts by role, then by status.'),
  tasks: z.record(z.string(), z.number().int()).nullable().describe('Task counts by status; null when the store cannot be read.'),
  tasksCapped: z.array(z.string()).describe('Statuses whose count stopped at CLUSTER_TASK_COUNT_CAP: there are at least that many.'),
  tasksCountedAt: nullableInstant.describe('When the counts were taken (reused for CLUSTER_TASK_COUNT_TTL_MS).'),
  queues: z.object({ pending: z.number().int() }).catchall(z.number().int()).describe('Pending messages in all, and by priority band.'),
  groups: z.array(z.object({ group: z.string(), an: z.array(z.string()), ki: z.array(z.string()) }).strict()),
}).strict();

/** A cron schedule, its task and its last run. */
export const scheduleSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  owner: z.string(),
  cron: z.string(),
  timezone: z.string(),
  task: z.record(z.string(), z.unknown()).describe('The task submission each tick makes.'),
  overlap: z.enum(OVERLAP_POLICIES),
  catchup: z.enum(CATCHUP_POLICIES),
  paused: z.boolean(),
  nextRunAt: nullableInstant.describe('Null while paused.'),
  lastRun: z.object({ tickAt: instant, outcome: z.enum(RUN_OUTCOMES), taskId: z.uuid().nullable(), at: instant }).strict().nullable(),
  runs: z.object({ created: z.number().int(), skippedOverlap: z.number().int() }).strict(),
  createdAt: instant,
  updatedAt: instant,
}).strict();
export const schedulePageSchema = z.object({ items: z.array(scheduleSchema), nextCursor: cursor }).strict();

const workflowNodeSchema = z.object({
  key: z.string(),
  type: z.string().nullable(),
  dependsOn: z.array(z.string()),
  map: z.object({ over: z.string() }).strict().nullable(),
  status: z.enum(NODE_STATUSES),
  reason: z.string().nullable(),
  taskIds: z.array(z.uuid()),
  attempts: z.number().int(),
  startedAt: nullableInstant,
  finishedAt: nullableInstant,
  tasks: z.array(z.object({ id: z.uuid(), index: z.number().int(), status: z.enum(TASK_STATUSES), attempts: z.number().int(), startedAt: nullableInstant, finishedAt: nullableInstant }).strict()),
}).strict();

const workflowFields = {
  id: z.uuid(),
  name: z.string().nullable(),
  status: z.enum(WORKFLOW_STATUSES),
  reason: z.string().nullable(),
  owner: z.string(),
  createdAt: instant,
  updatedAt: instant,
  finishedAt: nullableInstant,
};
/** A list item of `GET /workflows`: the workflow without its nodes. */
export const workflowSummarySchema = z.object(workflowFields).strict();
/** `GET /workflows/{id}`: the workflow with each node's state and tasks. */
export const workflowSchema = z.object({ ...workflowFields, nodes: z.array(workflowNodeSchema) }).strict();
export const workflowPageSchema = z.object({ items: z.array(workflowSummarySchema), nextCursor: cursor }).strict();

/** RFC 9457 problem details, as every error is answered; some carry more members (`field`, `errors`, `ceiling`, ...). */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  field: z.string().optional().describe('The request field at fault (400).'),
  errors: z.array(z.object({ field: z.string(), message: z.string() }).strict()).optional().describe('Up to ten validation issues (400).'),
  ceiling: z.number().optional().describe('The limit a value passed (400).'),
  retryAfterSec: z.number().int().optional().describe('Seconds to wait before trying again (429).'),
}).catchall(z.unknown());

export const healthSchema = z.object({ status: z.literal('ok') }).strict();
export const readinessSchema = z.union([
  z.object({ status: z.literal('ready') }).strict(),
  z.object({ status: z.literal('not ready'), failing: z.array(z.string()) }).strict(),
]);
export const streamTicketSchema = z.object({ ticket: z.string(), expiresInSec: z.number().int().min(0) }).strict();

/** @internal Compile-time checks: the answers the server builds fit the schemas the document publishes. */
type Fits<Actual, Published> = Actual extends Published ? true : never;
export const apiShapesFit: [Fits<ApiTask, z.input<typeof taskSchema>>, Fits<ApiSchedule, z.input<typeof scheduleSchema>>] = [true, true];
