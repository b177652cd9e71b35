import { z } from 'zod';
import { redundancySchema, requirementsSchema } from '../protocol';
import { TASK_STATUSES } from '../task';
import { badRequest } from './problem';
import { modelNameSchema } from './model-schemas';
import { isStorableText } from '../util';

/**
 * The largest `delayMs` the schema takes (about 100 years): a bound on what a timestamp can hold.
 * The operator's horizon (`TASK_MAX_DELAY_MS`, {@link scheduleOf}) is the bound that applies.
 */
export const DELAY_MS_MAX = 100 * 366 * 24 * 3600 * 1000;

/** The fields of a task submission, without the checks across fields (the workflow document reuses them). */
export const submitTaskFields = {
  type: z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only').optional(),
  payload: z.unknown().optional(),
  task_data: z.unknown().optional(),
  priority: z.number().int().min(0).max(9).optional(),
  requirements: requirementsSchema.optional(),
  timeoutMs: z.number().int().min(1).max(7 * 24 * 3600 * 1000).optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
  redundancy: redundancySchema.refine((r) => r.quorum <= r.replicas, { message: 'quorum must not exceed replicas', path: ['quorum'] }).optional(),
  runAt: z.iso.datetime({ offset: true, message: 'an RFC 3339 date-time with an offset, e.g. 2030-01-31T08:00:00Z' }).optional(),
  delayMs: z.number().int().min(0).max(DELAY_MS_MAX).optional(),
  /** A deployed model (`POST /models`) the task runs on; its handler gets the loaded model as `ctx.model`. */
  model: modelNameSchema.optional(),
};

/**
 * A task submission as clients send it. `task_data` is accepted as an alias of `payload`.
 * `runAt` (RFC 3339 with an offset) or `delayMs` delay its start; see {@link scheduleOf}.
 */
export const submitTaskSchema = z.object(submitTaskFields).strict()
  .refine((b) => !(b.payload !== undefined && b.task_data !== undefined), { message: 'give payload or task_data, not both', path: ['task_data'] })
  .refine((b) => !(b.runAt !== undefined && b.delayMs !== undefined), { message: 'give runAt or delayMs, not both', path: ['runAt'] });
export type SubmitTask = z.infer<typeof submitTaskSchema>;

/**
 * The task a schedule tick or a workflow node submits: a submission whose start is decided by the
 * tick or by its dependencies, so `runAt` and `delayMs` are refused rather than ignored.
 */
export const taskTemplateSchema = submitTaskSchema
  .refine((b) => b.runAt === undefined && b.delayMs === undefined, { message: 'a schedule\'s or a workflow\'s task starts at its tick or once its dependencies succeeded: runAt and delayMs do not apply', path: ['runAt'] });

/** `POST /tasks/batch`: the server checks `tasks` item by item (at most TASK_MAX_BATCH of them) and names the item at fault. */
export const batchSubmissionSchema = z.object({ tasks: z.array(submitTaskSchema).min(1) });

export const patchTaskSchema = z.object({ priority: z.number().int().min(0).max(9) }).strict();

/** Text PostgreSQL can store and compare: no NUL, no lone UTF-16 surrogate. */
const storable = (max: number) => z.string().min(1).max(max).refine(isStorableText, { message: 'holds a NUL or an unpaired surrogate' });

export const listQuerySchema = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  type: storable(128).optional(),
  owner: storable(256).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: storable(200).optional(),
  /** `payload`, `result` or both, comma separated: list items leave them out unless asked. */
  include: z.string().max(64).regex(/^(payload|result)(,(payload|result))?$/, 'payload, result or payload,result').optional(),
}).strict();

export const uuidSchema = z.string().uuid();

/** Parses with a schema; a failure is a 400 naming the first offending field. */
export function parseOr400<S extends z.ZodTypeAny>(schema: S, value: unknown, where = 'body'): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  // An item of a list (`tasks.3`) is named with its place, so a caller knows which item to mend.
  const at = (path: readonly PropertyKey[]) => (path.length === 0 ? where : where === 'body' || where === 'query' ? path.join('.') : `${where}.${path.join('.')}`);
  const field = issue ? at(issue.path) : where;
  throw badRequest(`${field}: ${issue?.message ?? 'invalid'}`, { field, errors: r.error.issues.slice(0, 10).map((i) => ({ field: at(i.path), message: i.message })) });
}

/** Opaque pagination cursor: base64url of "<createdAt ISO>|<id>". */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  // Years PostgreSQL cannot hold would fail in the store: a forged cursor is the caller's 400.
  const year = createdAt.getUTCFullYear();
  if (!id || Number.isNaN(createdAt.getTime()) || year < 1970 || year > 9999 || !uuidSchema.safeParse(id).success) throw badRequest('cursor: invalid', { field: 'cursor' });
  return { createdAt, id };
}
