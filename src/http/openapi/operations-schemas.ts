import { z } from 'zod';
import { taskSchema } from './response-schemas';

/**
 * Answers of the operator routes (dead letters, node operations, tenants), as zod schemas the
 * document publishes and the e2e answer check applies.
 */

const instant = z.iso.datetime();
const nullableInstant = instant.nullable();

/** What failed for good and why (`GET /dead-letters`). */
export const deadLetterSchema = z.object({
  id: z.uuid(),
  taskId: z.uuid().nullable().describe('The failed task, confirmed in the store; null for a message with no task (it cannot be re-driven).'),
  claimedTaskIds: z.array(z.string()).describe('Task ids the message claimed in its clear headers: unverified.'),
  messageType: z.string(),
  reason: z.string().describe('failed, rejected, expired, maxlen, delivery_limit or unverified.'),
  error: z.object({ code: z.string().nullable(), message: z.string().nullable() }).strict().nullable(),
  sourceQueue: z.string().nullable(),
  sender: z.string().nullable().describe('The sender the message claimed: unverified.'),
  attempts: z.number().int().nullable(),
  bodyBytes: z.number().int().nullable(),
  count: z.number().int().describe('How often this letter arrived (failed runs of a task, or copies of a message).'),
  redrivable: z.boolean(),
  firstSeenAt: instant,
  lastSeenAt: instant,
}).strict();
/** The answer of a re-drive: the letter that is gone and the task queued again. */
export const deadLetterRedriveSchema = z.object({ deadLetter: z.uuid(), task: taskSchema }).strict();
export const deadLetterPageSchema = z.object({ items: z.array(deadLetterSchema), nextCursor: z.string().nullable() }).strict();

/** The answer of a cordon, drain or uncordon. */
export const nodeOperationSchema = z.object({
  id: z.string(),
  stableId: z.string().describe('The identity the state is kept under: it survives a rescheduled pod.'),
  state: z.enum(['active', 'cordoned', 'draining']),
  drained: z.boolean().describe('True once nothing runs on the node any more.'),
  reason: z.string().nullable(),
  changedBy: z.string().nullable(),
  changedAt: instant,
}).strict();

/** A tenant's settings, what it holds now and the GPU-seconds it used this period (`GET /tenants`). */
export const tenantSchema = z.object({
  name: z.string(),
  configured: z.boolean().describe('Whether an admin set this tenant; otherwise the defaults apply.'),
  weight: z.number().int(),
  maxRunning: z.number().int().nullable(),
  maxQueued: z.number().int().nullable(),
  gpuSecondsBudget: z.number().nullable(),
  queued: z.number().int().describe('Queued tasks, held ones included.'),
  held: z.number().int().describe('Queued tasks held back by fair admission (not yet in the pending queues).'),
  running: z.number().int().describe('Dispatched or running tasks.'),
  gpuSeconds: z.number(),
  periodStart: instant,
  periodEnd: nullableInstant,
}).strict();
export const tenantListSchema = z.object({ items: z.array(tenantSchema) }).strict();
