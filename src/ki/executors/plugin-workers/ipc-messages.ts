import { z } from 'zod';

/**
 * The wire between a Ki and its plug-in workers (child processes that run GPU plug-in tasks).
 * The Ki sends over the fork IPC channel; a worker answers with newline-delimited JSON frames on
 * a pipe of its own (fd 4), so that the Ki can bound each frame before parsing it: Node's IPC
 * channel parses whatever arrives, however large. Each call is named by a number the Ki chose
 * (`call`), never by the task id: a worker is only believed about the calls it was given.
 */

/** Largest frame a worker may send (a result travels in one). */
export const MAX_WORKER_FRAME_BYTES = 8 * 1024 * 1024;
/** Longest `emit` chunk in one frame; a worker cuts longer output into several. */
export const MAX_EMIT_CHUNK_CHARS = 64 * 1024;
const MAX_ERROR_MESSAGE_CHARS = 8192;
const MAX_CODE_CHARS = 64;
const MAX_PROGRESS_MESSAGE_CHARS = 1024;

/** Ki -> worker. */
export type KiToWorker =
  | { t: 'run'; call: number; taskId: string; attempt: number; type: string; payload: unknown; timeoutMs: number; gpus: unknown[]; inputs?: Record<string, unknown> }
  | { t: 'cancel'; call: number; reason: string };

const callId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** A handler's failure as the worker reports it; the Ki rebuilds a task error from it. */
export const workerErrorSchema = z.strictObject({
  code: z.string().max(MAX_CODE_CHARS),
  message: z.string().max(MAX_ERROR_MESSAGE_CHARS),
  retryable: z.boolean(),
  details: z.unknown().optional(),
});
export type WorkerError = z.infer<typeof workerErrorSchema>;

const workerToKiSchema = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('ready') }),
  z.strictObject({ t: z.literal('emit'), call: callId, chunk: z.string().max(MAX_EMIT_CHUNK_CHARS) }),
  z.strictObject({ t: z.literal('progress'), call: callId, fraction: z.number(), message: z.string().max(MAX_PROGRESS_MESSAGE_CHARS).optional() }),
  z.strictObject({ t: z.literal('result'), call: callId, result: z.unknown() }),
  z.strictObject({ t: z.literal('error'), call: callId, error: workerErrorSchema }),
]);

/** Worker -> Ki, once decoded. */
export type WorkerToKi = z.infer<typeof workerToKiSchema>;

/** A worker broke the protocol: the Ki stops believing it and kills it. */
export class WorkerProtocolError extends Error {
  override readonly name = 'WorkerProtocolError';
}

/**
 * Decodes one frame a worker sent (without its newline).
 * @throws {@link WorkerProtocolError} for a frame that is too large, not JSON, or not one of
 *   {@link WorkerToKi}.
 */
export function decodeWorkerFrame(frame: string): WorkerToKi {
  if (Buffer.byteLength(frame) > MAX_WORKER_FRAME_BYTES) throw new WorkerProtocolError(`frame larger than ${MAX_WORKER_FRAME_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(frame);
  } catch {
    throw new WorkerProtocolError('frame is not JSON');
  }
  const parsed = workerToKiSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WorkerProtocolError(`bad frame: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'schema mismatch'}`);
  }
  return parsed.data;
}

/**
 * Cuts a worker's byte stream into frames at newlines, bounded: a frame still unfinished past
 * {@link MAX_WORKER_FRAME_BYTES} is a protocol error, so a worker cannot make the Ki hold an
 * unbounded buffer.
 */
export class FrameReader {
  #parts: Buffer[] = [];
  #bytes = 0;

  constructor(private readonly onFrame: (frame: string) => void, private readonly maxBytes = MAX_WORKER_FRAME_BYTES) {}

  /** @throws {@link WorkerProtocolError} when an unfinished frame grows past the bound. */
  push(chunk: Buffer): void {
    let rest = chunk;
    for (let nl = rest.indexOf(0x0a); nl >= 0; nl = rest.indexOf(0x0a)) {
      this.#parts.push(rest.subarray(0, nl));
      const frame = Buffer.concat(this.#parts).toString('utf8');
      this.#parts = [];
      this.#bytes = 0;
      rest = rest.subarray(nl + 1);
      if (frame !== '') this.onFrame(frame);
    }
    if (rest.length === 0) return;
    this.#bytes += rest.length;
    if (this.#bytes > this.maxBytes) throw new WorkerProtocolError(`frame larger than ${this.maxBytes} bytes`);
    this.#parts.push(rest);
  }
}
