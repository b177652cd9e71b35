import { z } from 'zod';

/** Version of every message body; a receiver refuses versions it does not know. */
export const PROTOCOL_VERSION = 1;

const id = z.string().min(1).max(128);
const ms = z.number().int().nonnegative();

export const requirementsSchema = z.object({
  gpus: z.number().int().min(0).max(64).default(0),
  gpuMemoryMiB: z.number().int().min(0).max(16 * 1024 * 1024).default(0),
  labels: z.array(z.string().min(1).max(64)).max(32).default([]),
}).strict();
export type Requirements = z.infer<typeof requirementsSchema>;

export const redundancySchema = z.object({ replicas: z.number().int().min(1).max(16), quorum: z.number().int().min(1).max(16) }).strict();

/** A task as it travels in work messages: everything needed to run it without a DB read. */
export const taskSpecSchema = z.object({
  id: z.string().uuid(),
  type: z.string().min(1).max(128),
  payload: z.unknown(),
  priority: z.number().int().min(0).max(9),
  requirements: requirementsSchema,
  timeoutMs: ms,
  maxAttempts: z.number().int().min(1).max(100),
  owner: z.string().max(256),
  createdAtMs: ms,
  redundancy: redundancySchema.nullable().optional(),
  /** A workflow task's upstream results by dependency key; absent for a task submitted on its own. */
  inputs: z.record(z.string(), z.unknown()).optional(),
  /** The deployed model the task runs on; absent for a task that names none. */
  model: z.string().min(1).max(128).optional(),
});
export type TaskSpec = z.infer<typeof taskSpecSchema>;

const taskError = z.object({ code: z.string().max(64), message: z.string().max(8192), retryable: z.boolean(), details: z.unknown().optional() });
export type TaskErrorData = z.infer<typeof taskError>;

const gpu = z.object({
  index: z.number().int(), uuid: z.string(), name: z.string(), memoryMiB: z.number(), memoryUsedMiB: z.number(), utilizationPct: z.number().optional(),
  /** Uncorrected ECC errors since the driver loaded (cards with ECC). */
  eccUncorrected: z.number().int().nonnegative().optional(),
  /** `failed`: the Ki saw the GPU fail (see `healthReason`); no new work is placed on it. */
  health: z.enum(['ok', 'failed']).optional(),
  healthReason: z.string().max(256).optional(),
});
/** One GPU as a Ki discovers it and advertises it in its heartbeats. */
export type GpuDevice = z.infer<typeof gpu>;

/** The states of a model on one Ki: loading, then ready, then unloading until it is gone. */
export const MODEL_STATES = ['loading', 'ready', 'unloading'] as const;
export type ModelState = (typeof MODEL_STATES)[number];

/** A model resident on a Ki, as its heartbeats report it. */
const residentModel = z.object({ name: id, state: z.enum(MODEL_STATES), sinceMs: ms }).strict();
export type ResidentModel = z.infer<typeof residentModel>;

/** A model as a load command carries it: what the Ki's load hook needs. */
export const modelDescriptorSchema = z.object({ name: id, type: id, config: z.record(z.string(), z.unknown()) }).strict();
export type ModelDescriptor = z.infer<typeof modelDescriptorSchema>;

/** Random per process start (instance) or per join (nonce). */
const randomId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);
/** A node id as the config accepts it: it becomes part of queue names. */
const nodeId = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/);
const hmacProof = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
/** A P-256 coordinate: 32 bytes, base64url without padding. */
const p256Coordinate = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
/** The public key a node proves possession of (issued mode), as a JWK with public members only. */
const popJwk = z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: p256Coordinate, y: p256Coordinate }).strict();

const TERMINAL = ['succeeded', 'failed', 'cancelled'] as const;

/** One task's terminal state, as task.event messages carry it. */
const taskEvent = z.object({ taskId: z.string().uuid(), status: z.enum(TERMINAL), owner: z.string(), attempts: z.number().int(), finishedAtMs: ms });
export type TaskEvent = z.infer<typeof taskEvent>;

/** Items per batched message; a sender splits a batch whose sealed form would be too large. */
export const MAX_ITEMS = 1000;

/**
 * Tasks per pending message the principals send. An An holds a whole message until every task in
 * it is placed and its prefetch counts messages, so a message stays small next to its window.
 */
export const PENDING_TASKS_PER_MESSAGE = 64;
/** W3C traceparent of one item's own trace: items of one message belong to different traces. */
const traceparent = z.string().max(256).optional();

/** A task waiting for an An, as `task.pending` carries it. `attempts` is the fencing value at publish. */
const pendingItem = z.object({ task: taskSpecSchema, attempts: z.number().int().nonnegative(), hops: z.number().int().min(0).max(1000).optional(), trace: traceparent });
export type PendingItem = z.infer<typeof pendingItem>;

/** One attempt to run, as `task.assign` carries it. */
// `model`: what the Ki loads when the task's model is not resident there (a cold start).
const assignItem = z.object({ task: taskSpecSchema, attempt: z.number().int().positive(), gpus: z.array(z.number().int()).default([]), trace: traceparent, model: modelDescriptorSchema.optional() });
export type AssignItem = z.infer<typeof assignItem>;

/** One attempt's outcome, as `task.result` carries it. */
const resultItem = z.object({
  taskId: z.string().uuid(), attempt: z.number().int().positive(), startedAtMs: ms, finishedAtMs: ms,
  ok: z.boolean(), result: z.unknown().optional(), error: taskError.optional(), trace: traceparent,
});
export type ResultItem = z.infer<typeof resultItem>;

/** Characters in one output chunk; a longer emit is split. */
export const MAX_CHUNK_CHARS = 16_384;
/** Chunks per output message: what one flush of a running attempt carries. */
export const MAX_CHUNKS_PER_MESSAGE = 256;

/** Output chunks of a running attempt, in order from `seq` (the first chunk's index in the attempt). */
const outputChunks = z.object({
  v: z.literal(1), taskId: z.string().uuid(), attempt: z.number().int().positive(), seq: z.number().int().nonnegative(),
  chunks: z.array(z.string().max(MAX_CHUNK_CHARS)).min(1).max(MAX_CHUNKS_PER_MESSAGE),
});
export type OutputChunks = z.infer<typeof outputChunks>;

/** Pieces of output in one message: a Ki's (or an An's) output of many attempts, gathered for a few milliseconds. */
export const MAX_OUTPUT_ITEMS = 256;
const outputBatch = z.object({ v: z.literal(1), items: z.array(outputChunks).min(1).max(MAX_OUTPUT_ITEMS) });

/** Every message body, by type. */
export const messageSchemas = {
  /** principal → pending queue: tasks of one priority band waiting for an An (those published at once). */
  'task.pending': z.object({ v: z.literal(1), items: z.array(pendingItem).min(1).max(MAX_ITEMS) }),
  /** An → Ki inbox: run these attempts (all that one scheduling pass placed on this Ki). */
  'task.assign': z.object({ v: z.literal(1), an: id, items: z.array(assignItem).min(1).max(MAX_ITEMS) }),
  /** principal/An → Ki (control): abort this task. */
  // `attempt`: the run to stop. A late cancel for an earlier attempt must not stop the next one on the same Ki.
  'task.cancel': z.object({ v: z.literal(1), taskId: z.string().uuid(), reason: z.string().max(512), attempt: z.number().int().min(1).optional() }),
  /** Ki → An: the attempt started. */
  'task.started': z.object({ v: z.literal(1), taskId: z.string().uuid(), attempt: z.number().int().positive(), ki: id, startedAtMs: ms }),
  /** Ki → An: progress of a running attempt. */
  'task.progress': z.object({ v: z.literal(1), taskId: z.string().uuid(), attempt: z.number().int().positive(), fraction: z.number().min(0).max(1), message: z.string().max(1024).optional() }),
  /** Ki → An: output its running attempts produced (streamed to clients; the result stays the source of truth). */
  'task.output': outputBatch,
  /** An → principals (control): output of attempts the An holds, each checked against its Ki. */
  'task.chunk': outputBatch,
  /** Ki → An: these attempts ended (all that ended on this Ki while the previous report was on its way). */
  'task.result': z.object({ v: z.literal(1), ki: id, items: z.array(resultItem).min(1).max(MAX_ITEMS) }),
  /** An/principal → principals (control): tasks that reached a terminal state, batched. */
  'task.event': z.object({ v: z.literal(1), events: z.array(taskEvent).min(1).max(5000) }),
  /**
   * An → dead-letter exchange (`task.failed.<type>`): a task failed for good. Only what finding
   * and re-driving it needs; the payload stays in the DB (and goes with DELETE /tasks/{id}), and
   * the error's text (output of the task) is left out too.
   */
  'task.failed': z.object({
    v: z.literal(1), taskId: z.string().uuid(), type: z.string().min(1).max(128), owner: z.string().max(256),
    attempts: z.number().int().nonnegative(), code: z.string().max(64), failedAtMs: ms,
  }).strict(),
  /** every node (control): I am alive, with what I have. */
  'node.heartbeat': z.object({
    v: z.literal(1), id, role: z.enum(['principal', 'an', 'ki', 'standalone']), group: z.string().max(128), status: z.enum(['alive', 'leaving']),
    startedAtMs: ms, version: z.string().max(64), load: z.number().min(0), slots: z.object({ total: z.number().int().min(0), busy: z.number().int().min(0) }),
    gpus: z.array(gpu).max(64), types: z.array(z.string()).max(256), labels: z.array(z.string()).max(64),
    leader: z.boolean().optional(), term: z.number().int().nonnegative().optional(), quarantined: z.boolean().optional(),
    slotsPerGpu: z.number().int().min(1).max(64).optional(),
    /** Issued mode: the process instance, so the leader refuses a join that claims a live node's id. */
    instance: randomId.optional(),
    /** The identity reputation, cordon and benches are kept under (survives a rescheduled pod); absent: the id. */
    stableId: nodeId.optional(),
    /** A Ki stopping (SIGTERM): `draining` while it finishes what it runs and takes nothing new, then `drained`. */
    state: z.enum(['active', 'draining', 'drained']).optional(),
    /** A Ki's resident models, with the state of each and since when it is in it. */
    models: z.array(residentModel).max(256).optional(),
    /** The model types a Ki's plug-ins load, and how many models it keeps resident at most. */
    modelTypes: z.array(id).max(64).optional(),
    modelSlots: z.number().int().min(0).max(256).optional(),
  }),
  /**
   * leader → Ki (control): load these models and unload those. Fenced by the leader's term; a
   * load of a resident model and an unload of an absent one change nothing.
   */
  'model.command': z.object({
    v: z.literal(1), ki: id, term: z.number().int().nonnegative(),
    load: z.array(modelDescriptorSchema).max(64), unload: z.array(id).max(64),
  }).strict(),
  /** leader → An/Ki (control): your group. Fenced by the leader's term. */
  'node.assign': z.object({ v: z.literal(1), nodeId: id, group: z.string().max(128), term: z.number().int().nonnegative() }),
  /** principal → election queue: keeps the single active consumer informed that it is leader. */
  'election.tick': z.object({ v: z.literal(1), from: id, atMs: ms }),
  /**
   * An/Ki → principals (control, issued mode): admit me. The only message without a node token;
   * `proof` is HMAC-SHA256(join secret of the role, "join|id|role|instance|nonce|timestampMs|thumbprint(popKey)").
   * `popKey` is the process's own key: the issued token confirms it (`cnf`), and it signs the join.
   */
  'node.join': z.object({ v: z.literal(1), id: nodeId, role: z.enum(['an', 'ki']), instance: randomId, nonce: randomId, popKey: popJwk, proof: hmacProof }).strict(),
  /**
   * leader → the joining process (its identity queue): your token, and the keys that verify node
   * tokens. `proof` is HMAC-SHA256(join secret of the role, "identity|id|instance|nonce|sha256(token)|kids...").
   */
  'node.identity': z.object({
    v: z.literal(1), id: nodeId, instance: randomId, nonce: randomId, token: z.string().min(1).max(8192), expiresAtMs: ms,
    verifyKeys: z.array(z.object({ kid: z.string().min(1).max(128), pem: z.string().min(1).max(4096) }).strict()).min(1).max(8), proof: hmacProof,
  }).strict(),
} as const;

export type MessageType = keyof typeof messageSchemas;
export type MessageOf<T extends MessageType> = z.infer<(typeof messageSchemas)[T]>;
export const MESSAGE_TYPES = Object.keys(messageSchemas) as MessageType[];

export function isMessageType(t: unknown): t is MessageType {
  return typeof t === 'string' && Object.prototype.hasOwnProperty.call(messageSchemas, t);
}

/**
 * Message types that sit in durable queues and may be delivered long after they were sent; they are
 * exempt from the freshness check (their handlers are idempotent by task id and attempt).
 */
export const QUEUED_TYPES: ReadonlySet<MessageType> = new Set(['task.pending', 'task.assign', 'task.started', 'task.progress', 'task.output', 'task.result', 'task.failed', 'election.tick']);
