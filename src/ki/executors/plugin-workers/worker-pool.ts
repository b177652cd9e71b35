import { extname, join, resolve } from 'node:path';
import type { Service } from '../../../lifecycle';
import type { Logger, Metrics } from '../../../observability';
import { cudaVisibleDevices } from '../exec';
import type { ExecutionContext } from '../types';
import { PluginWorker, type WorkerEndReason, type WorkerState } from './plugin-worker';
import { workerEnv } from './worker-env';
import { workerExitedError } from './worker-exited';

/** Options of {@link PluginWorkerPool}. */
export interface PluginWorkerPoolOptions {
  /** The plug-in module (`ki.handlers`) every worker loads. */
  handlersPath: string;
  nodeId: string;
  logLevel: string;
  /** `ki.killGraceMs`: how long a cancelled call may take to end before its worker is killed. */
  killGraceMs: number;
  /** `ki.gpuWorkerIdleMs`: how long a worker is kept without calls; 0 = until the Ki stops. */
  idleMs: number;
  log: Logger;
  metrics: Pick<Metrics, 'kiGpuWorkers' | 'kiGpuWorkerRestarts'>;
  /** The environment workers start from (less its secrets). @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** @internal The module forked; tests fork fakes. @defaultValue worker-main beside this file */
  workerModule?: string;
}

const STATES: readonly Exclude<WorkerState, 'gone'>[] = ['starting', 'idle', 'busy'];

/** The key of a reservation: its GPU indices, sorted (`0,1`); empty for CPU work. */
export function reservationKey(ctx: Pick<ExecutionContext, 'gpus'>): string {
  return [...ctx.gpus].map((g) => g.index).sort((a, b) => a - b).join(',');
}

/**
 * The Ki's plug-in workers, one per GPU reservation (keyed by {@link reservationKey}): a call
 * goes to the worker of its task's reservation, started on first use with `CUDA_VISIBLE_DEVICES`
 * set to it, and kept while calls keep coming so what the plug-in loaded stays warm. A worker
 * that ended (crashed, killed, idle) is replaced on the next call. Several calls may run at once
 * in one worker: the An places at most `ki.slotsPerGpu` tasks on a GPU, so that bounds them.
 * Started before the Ki and stopped after it (services stop in reverse order).
 */
export class PluginWorkerPool implements Service {
  readonly name = 'plugin-workers';
  readonly #workers = new Map<string, PluginWorker>();
  readonly #workerModule: string;
  #stopped = false;

  constructor(private readonly o: PluginWorkerPoolOptions) {
    // Beside this file, as .js once built or .ts under the test runner (the fork inherits its loader).
    this.#workerModule = o.workerModule ?? join(__dirname, `worker-main${extname(__filename)}`);
    this.#report();
  }

  /** Runs the handler `type` in the worker of `ctx`'s reservation. */
  run(type: string, payload: unknown, ctx: ExecutionContext): Promise<unknown> {
    if (this.#stopped) return Promise.reject(workerExitedError('the Ki is stopping its plug-in workers'));
    return this.#workerFor(ctx).run(type, payload, ctx);
  }

  /** @internal The worker of a reservation now, for tests. */
  workerOf(key: string): PluginWorker | undefined {
    return this.#workers.get(key);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#workers.values()].map((w) => w.stop('stopped')));
  }

  #workerFor(ctx: ExecutionContext): PluginWorker {
    const key = reservationKey(ctx);
    const existing = this.#workers.get(key);
    if (existing && existing.state !== 'gone') return existing;
    const worker = new PluginWorker({
      key, workerModule: this.#workerModule, args: [resolve(this.o.handlersPath), this.o.nodeId, this.o.logLevel],
      env: workerEnv(this.o.env ?? process.env, cudaVisibleDevices(ctx.gpus)),
      killGraceMs: this.o.killGraceMs, idleMs: this.o.idleMs, log: this.o.log,
      onEnd: (w, reason) => this.#onEnd(w, reason), onState: () => this.#report(),
    });
    this.#workers.set(key, worker);
    this.#report();
    return worker;
  }

  #onEnd(worker: PluginWorker, reason: WorkerEndReason): void {
    if (this.#workers.get(worker.key) === worker) this.#workers.delete(worker.key);
    // Asked-for ends are not restarts; the rest mean the next call on these GPUs starts afresh.
    if (reason !== 'idle' && reason !== 'stopped') this.o.metrics.kiGpuWorkerRestarts.inc({ reason });
    this.#report();
  }

  #report(): void {
    const counts = new Map<string, number>(STATES.map((s) => [s, 0]));
    for (const w of this.#workers.values()) if (w.state !== 'gone') counts.set(w.state, (counts.get(w.state) ?? 0) + 1);
    for (const [state, n] of counts) this.o.metrics.kiGpuWorkers.set({ state }, n);
  }
}
