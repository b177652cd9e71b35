/**
 * The entry of a plug-in worker: a child process a Ki forks per GPU reservation with
 * `CUDA_VISIBLE_DEVICES` set to it. It loads the plug-in's handlers once (so whatever they load
 * at module load or on first call stays warm between tasks) and runs the calls the Ki sends,
 * answering on fd 4 (see ipc-messages.ts). Arguments: handlers module, node id, log level.
 */
import { Socket } from 'node:net';
import { createLogger } from '../../../observability';
import { toWorkerError } from './worker-error';
import { MAX_EMIT_CHUNK_CHARS, MAX_WORKER_FRAME_BYTES, type KiToWorker, type WorkerToKi } from './ipc-messages';
import { loadPluginHandlers } from '../plugin';
import type { ExecutionContext } from '../types';
import type { GpuDevice } from '../../gpu';

const [handlersPath = '', nodeId = 'ki', level = 'info'] = process.argv.slice(2);
const log = createLogger({ nodeId, role: 'ki-worker', level }).child({ pid: process.pid, cudaVisibleDevices: process.env['CUDA_VISIBLE_DEVICES'] });
const out = new Socket({ fd: 4, readable: false, writable: true });
const running = new Map<number, AbortController>();

function send(message: WorkerToKi): void {
  let frame: string;
  try {
    frame = JSON.stringify(message);
  } catch (err) {
    if (!('call' in message)) throw err;
    frame = JSON.stringify({ t: 'error', call: message.call, error: { code: 'EXECUTOR_ERROR', message: `result is not JSON: ${(err as Error).message}`.slice(0, 8192), retryable: false } } satisfies WorkerToKi);
  }
  if (Buffer.byteLength(frame) > MAX_WORKER_FRAME_BYTES && 'call' in message) {
    frame = JSON.stringify({ t: 'error', call: message.call, error: { code: 'RESULT_UNSTORABLE', message: `the ${message.t} is larger than the ${MAX_WORKER_FRAME_BYTES} bytes a plug-in worker may send`, retryable: false } } satisfies WorkerToKi);
  }
  out.write(`${frame}\n`);
}

function emitChunk(call: number, chunk: unknown): void {
  const text = typeof chunk === 'string' ? chunk : JSON.stringify(chunk) ?? '';
  for (let i = 0; i < text.length; i += MAX_EMIT_CHUNK_CHARS) send({ t: 'emit', call, chunk: text.slice(i, i + MAX_EMIT_CHUNK_CHARS) });
}

async function run(m: Extract<KiToWorker, { t: 'run' }>, handlers: ReturnType<typeof loadPluginHandlers>): Promise<void> {
  const abort = new AbortController();
  running.set(m.call, abort);
  const ctx: ExecutionContext = {
    taskId: m.taskId, attempt: m.attempt, type: m.type, signal: abort.signal, timeoutMs: m.timeoutMs, gpus: m.gpus as GpuDevice[],
    log: log.child({ taskId: m.taskId, attempt: m.attempt, type: m.type }),
    ...(m.inputs ? { inputs: m.inputs } : {}),
    emit: (chunk) => { if (running.has(m.call)) emitChunk(m.call, chunk); },
    progress: (fraction, message) => {
      // NaN and Infinity would reach the Ki as null, which the protocol refuses; in-process they count as 0.
      const finite = Number.isFinite(Number(fraction)) ? Number(fraction) : 0;
      if (running.has(m.call)) send({ t: 'progress', call: m.call, fraction: finite, ...(message !== undefined ? { message: String(message).slice(0, 1024) } : {}) });
    },
  };
  try {
    const handler = handlers[m.type];
    if (!handler) throw new Error(`the plug-in has no handler for "${m.type}"`);
    const result = await handler(m.payload, ctx);
    running.delete(m.call);
    send({ t: 'result', call: m.call, result: result ?? null });
  } catch (err) {
    running.delete(m.call);
    send({ t: 'error', call: m.call, error: toWorkerError(err) });
  }
}

function main(): void {
  const handlers = loadPluginHandlers(handlersPath, log);
  process.on('message', (m: KiToWorker) => {
    if (m.t === 'run') void run(m, handlers);
    else running.get(m.call)?.abort(new Error(m.reason));
  });
  // The Ki went away (or let the worker go): nothing is left to answer to.
  process.on('disconnect', () => process.exit(0));
  send({ t: 'ready' });
}

main();
