import { z } from 'zod';
import { ConfigError } from '../errors';
import { CLIENT_ROLES, type ClientRole } from '../security';
import { badRequest } from './problem';
import type { SubmitTask } from './task-schemas';

/** The most a caller of one role may ask of a task. */
export interface TaskLimits {
  maxPriority: number;
  maxReplicas: number;
  maxAttempts: number;
  maxTimeoutMs: number;
  maxPayloadBytes: number;
}

/** The API's own bounds (task-schemas.ts): what admin and operator may ask unless the operator says less. */
const API_BOUNDS: TaskLimits = { maxPriority: 9, maxReplicas: 16, maxAttempts: 100, maxTimeoutMs: 7 * 24 * 3600 * 1000, maxPayloadBytes: Number.MAX_SAFE_INTEGER };

/**
 * Self-service ceilings for a submitter: the default priority and no higher (jumping the queue is
 * an operator's call), a few replicas and attempts (each multiplies the cluster's work), an hour
 * of run time and 256 KiB of payload.
 */
const SUBMITTER_DEFAULTS: TaskLimits = { maxPriority: 5, maxReplicas: 3, maxAttempts: 5, maxTimeoutMs: 3_600_000, maxPayloadBytes: 256 * 1024 };

/** The ceilings of each client role when `TASK_LIMITS` says nothing of it. */
export const DEFAULT_TASK_LIMITS: Readonly<Record<ClientRole, TaskLimits>> = {
  admin: API_BOUNDS, operator: API_BOUNDS, submitter: SUBMITTER_DEFAULTS, viewer: SUBMITTER_DEFAULTS,
};

const limitsSchema = z.object({
  maxPriority: z.number().int().min(0).max(API_BOUNDS.maxPriority),
  maxReplicas: z.number().int().min(1).max(API_BOUNDS.maxReplicas),
  maxAttempts: z.number().int().min(1).max(API_BOUNDS.maxAttempts),
  maxTimeoutMs: z.number().int().min(1).max(API_BOUNDS.maxTimeoutMs),
  maxPayloadBytes: z.number().int().min(0),
}).partial().strict();
const configSchema = z.object({ admin: limitsSchema, operator: limitsSchema, submitter: limitsSchema, viewer: limitsSchema }).partial().strict();

/** Per-role ceilings, resolved once from `TASK_LIMITS` over {@link DEFAULT_TASK_LIMITS}. */
export type RoleLimits = Readonly<Record<ClientRole, TaskLimits>>;

/** Parses `TASK_LIMITS` (JSON; empty: the defaults). Throws {@link ConfigError} naming the offending entry. */
export function parseTaskLimits(json: string): RoleLimits {
  if (json.trim() === '') return DEFAULT_TASK_LIMITS;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ConfigError('invalid configuration: tasks.limits (TASK_LIMITS) is not JSON');
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid configuration: tasks.limits (TASK_LIMITS) ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const out = { ...DEFAULT_TASK_LIMITS };
  for (const role of CLIENT_ROLES) out[role] = { ...DEFAULT_TASK_LIMITS[role], ...(parsed.data[role] ?? {}) };
  return out;
}

/** A caller with several roles gets, field by field, the most its roles allow. */
export function limitsOf(limits: RoleLimits, roles: readonly ClientRole[]): TaskLimits {
  const own = roles.map((r) => limits[r]);
  const most = (key: keyof TaskLimits) => Math.max(...own.map((l) => l[key]));
  return { maxPriority: most('maxPriority'), maxReplicas: most('maxReplicas'), maxAttempts: most('maxAttempts'), maxTimeoutMs: most('maxTimeoutMs'), maxPayloadBytes: most('maxPayloadBytes') };
}

function over(field: string, ceiling: number, what: string): never {
  throw badRequest(`${field}: at most ${ceiling}${what} for your role`, { field, ceiling });
}

/** A priority above the caller's ceiling is a 400 naming the field and the ceiling (PATCH too). */
export function checkPriority(priority: number, limits: TaskLimits, field = 'priority'): void {
  if (priority > limits.maxPriority) over(field, limits.maxPriority, '');
}

/**
 * Checks the values a submission names against the caller's ceilings: a 400 naming the first
 * field over its ceiling and the ceiling. Values left to the defaults are not the caller's choice.
 */
export function checkSubmission(body: SubmitTask, limits: TaskLimits, where = ''): void {
  const at = (f: string) => (where ? `${where}.${f}` : f);
  if (body.priority !== undefined) checkPriority(body.priority, limits, at('priority'));
  if (body.redundancy && body.redundancy.replicas > limits.maxReplicas) over(at('redundancy.replicas'), limits.maxReplicas, '');
  if (body.maxAttempts !== undefined && body.maxAttempts > limits.maxAttempts) over(at('maxAttempts'), limits.maxAttempts, '');
  if (body.timeoutMs !== undefined && body.timeoutMs > limits.maxTimeoutMs) over(at('timeoutMs'), limits.maxTimeoutMs, ' ms');
  const payload = body.payload !== undefined ? body.payload : body.task_data;
  if (payload !== undefined && limits.maxPayloadBytes < API_BOUNDS.maxPayloadBytes) {
    const bytes = Buffer.byteLength(JSON.stringify(payload) ?? '', 'utf8');
    if (bytes > limits.maxPayloadBytes) over(at(body.payload !== undefined ? 'payload' : 'task_data'), limits.maxPayloadBytes, ' bytes of JSON');
  }
}
