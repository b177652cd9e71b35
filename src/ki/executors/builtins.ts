import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { abortedError } from './aborted';
import { TaskExecutionError, type Executor } from './types';

const asObject = (payload: unknown): Record<string, unknown> => (payload && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : {});

/** Returns its payload. */
export const echoExecutor: Executor = async (payload) => payload ?? null;

/** Waits `payload.ms` (at most a day), honouring cancellation. */
export const sleepExecutor: Executor = async (payload, ctx) => {
  const ms = Number(asObject(payload)['ms'] ?? 0);
  if (!Number.isFinite(ms) || ms < 0 || ms > 86_400_000) throw new TaskExecutionError('payload.ms must be a number of milliseconds between 0 and 86400000', { code: 'BAD_PAYLOAD' });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => { clearTimeout(timer); reject(abortedError(ctx.signal.reason)); };
    const timer = setTimeout(() => { ctx.signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  return { slept: ms };
};

/** Fails with `payload.message`; `payload.retryable` (default false) asks for another attempt. */
export const failExecutor: Executor = async (payload) => {
  const p = asObject(payload);
  throw new TaskExecutionError(typeof p['message'] === 'string' ? p['message'] : 'task failed on purpose', { code: 'TASK_FAILED', retryable: p['retryable'] === true });
};

/**
 * `payload.rounds` of SHA-256 (at most 100 million), for load. Works in slices so heartbeats and
 * cancellation keep flowing on the event loop, and reports progress between slices.
 */
export const cpuExecutor: Executor = async (payload, ctx) => {
  const rounds = Number(asObject(payload)['rounds'] ?? 1000);
  if (!Number.isInteger(rounds) || rounds < 0 || rounds > 100_000_000) throw new TaskExecutionError('payload.rounds must be an integer between 0 and 100000000', { code: 'BAD_PAYLOAD' });
  let digest = Buffer.alloc(32);
  const slice = 20_000;
  for (let done = 0; done < rounds; ) {
    if (ctx.signal.aborted) throw abortedError(ctx.signal.reason);
    const end = Math.min(rounds, done + slice);
    for (; done < end; done++) digest = createHash('sha256').update(digest).digest();
    if (done < rounds) {
      ctx.progress(done / rounds);
      await yieldToLoop();
    }
  }
  return { rounds, digest: digest.toString('hex') };
};

/** The built-in types every Ki offers: harmless, and what the quickstart and the tests submit. */
export const CORE_EXECUTORS: Readonly<Record<string, Executor>> = { echo: echoExecutor, fail: failExecutor };

/**
 * Demo and load types, offered only when `ki.demoTypes` allows: anyone who may submit could
 * otherwise hold a Ki's slots for a day (`sleep`) or burn its CPU (`cpu`).
 */
export const DEMO_EXECUTORS: Readonly<Record<string, Executor>> = { sleep: sleepExecutor, cpu: cpuExecutor };

/** Every built-in type, demo types included. */
export const BUILTIN_EXECUTORS: Readonly<Record<string, Executor>> = { ...CORE_EXECUTORS, ...DEMO_EXECUTORS };

/**
 * Whether this node offers the demo types: `ki.demoTypes` when set, else only a standalone node
 * in development (the README quickstart submits `sleep`).
 */
export function demoTypesEnabled(setting: '' | 'true' | 'false', standalone: boolean, env: string): boolean {
  if (setting !== '') return setting === 'true';
  return standalone && env === 'development';
}

/** The built-in executors this node offers. */
export function builtinExecutors(demoTypes: boolean): Readonly<Record<string, Executor>> {
  return demoTypes ? BUILTIN_EXECUTORS : CORE_EXECUTORS;
}
