import { fork, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from '../../../observability';
import { abortedError } from '../aborted';
import { signalProcessGroup } from '../process-group';
import type { ExecutionContext } from '../types';
import { decodeWorkerFrame, FrameReader, WorkerProtocolError, type KiToWorker, type WorkerToKi } from './ipc-messages';
import { fromWorkerError } from './worker-error';
import { workerExitedError } from './worker-exited';

/** Why a worker ended: `idle` and `stopped` are asked for, the others are failures. */
export type WorkerEndReason = 'idle' | 'stopped' | 'exited' | 'killed' | 'protocol';

/** What a worker is doing, as `anki_ki_gpu_workers{state}` counts it. */
export type WorkerState = 'starting' | 'idle' | 'busy' | 'gone';

/** Options of {@link PluginWorker}. */
export interface PluginWorkerOptions {
  /** The reservation it serves: the sorted GPU indices, e.g. `0,1` (empty for CPU work). */
  key: string;
  /** The module forked (worker-main). */
  workerModule: string;
  /** Arguments of worker-main: handlers module, node id, log level. */
  args: string[];
  /** Its whole environment, `CUDA_VISIBLE_DEVICES` included. */
  env: NodeJS.ProcessEnv;
  /** How long a call may take to end after its cancel or timeout before the worker is killed. */
  killGraceMs: number;
  /** How long it stays without calls before it is let go; 0 = until the Ki stops. */
  idleMs: number;
  log: Logger;
  /** Told once when it ended (its process exited). */
  onEnd: (worker: PluginWorker, reason: WorkerEndReason) => void;
  /** Told when {@link state} changed. */
  onState: () => void;
}

interface Call {
  ctx: ExecutionContext;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  message: KiToWorker;
  onAbort: () => void;
  killTimer?: NodeJS.Timeout;
}

/**
 * One plug-in worker process: forks it, sends it calls, and settles each call from its frames.
 * A call whose task is cancelled or times out is told so (the handler's `ctx.signal` aborts);
 * if it has not ended `killGraceMs` later, the worker is killed (SIGKILL). A worker that ends
 * fails the calls it still had with a retryable `WORKER_EXITED`.
 */
export class PluginWorker {
  readonly #child: ChildProcess;
  readonly #calls = new Map<number, Call>();
  /** Calls sent before the worker said it was ready. */
  readonly #waiting: KiToWorker[] = [];
  #lastCall = 0;
  #ready = false;
  #ended = false;
  /** Set when the Ki ends the worker, so its exit is put down to the right reason. */
  #ending?: WorkerEndReason;
  #idleTimer?: NodeJS.Timeout;
  #killTimer?: NodeJS.Timeout;
  readonly #exited: Promise<void>;

  constructor(private readonly o: PluginWorkerOptions) {
    // A process group of its own, so that a kill also reaches what the plug-in started (a server
    // holding GPU memory). It still exits with the Ki: it ends when its channel closes.
    this.#child = fork(o.workerModule, o.args, { env: o.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'], serialization: 'json', detached: true });
    const answers = this.#child.stdio[4] as Readable;
    const frames = new FrameReader((frame) => this.#onFrame(frame));
    answers.on('data', (chunk: Buffer) => {
      if (this.#ending) return;
      try {
        frames.push(chunk);
      } catch (err) {
        this.#violation(err);
      }
    });
    const answersEnded = new Promise<void>((resolve) => { answers.once('end', resolve); answers.once('close', resolve); });
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        // The frames it wrote before it exited are read first (a result sent just before
        // `process.exit` still counts); bounded, in case a process it started holds the pipe open.
        const drained = setTimeout(() => answers.destroy(), o.killGraceMs);
        void answersEnded.then(() => {
          clearTimeout(drained);
          this.#end(`exited (${signal ?? `code ${code ?? '?'}`})`);
          resolve();
        });
      });
      // A fork that failed to start emits only `error`.
      this.#child.on('error', (err) => { if (this.#child.pid === undefined) { this.#end(`failed to start: ${err.message}`); resolve(); } });
    });
    o.log.info({ gpus: o.key, pid: this.#child.pid }, 'plug-in worker started');
  }

  get key(): string {
    return this.o.key;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get state(): WorkerState {
    if (this.#ended || this.#ending) return 'gone';
    if (!this.#ready) return 'starting';
    return this.#calls.size > 0 ? 'busy' : 'idle';
  }

  /** Runs one call of the handler `type`; settles as the handler does, or with `WORKER_EXITED`. */
  run(type: string, payload: unknown, ctx: ExecutionContext): Promise<unknown> {
    if (this.state === 'gone') return Promise.reject(workerExitedError(`the plug-in worker for GPUs [${this.o.key}] has ended`));
    if (ctx.signal.aborted) return Promise.reject(abortedError(ctx.signal.reason));
    clearTimeout(this.#idleTimer);
    const id = ++this.#lastCall;
    const message: KiToWorker = {
      t: 'run', call: id, taskId: ctx.taskId, attempt: ctx.attempt, type, payload, timeoutMs: ctx.timeoutMs, gpus: [...ctx.gpus],
      ...(ctx.inputs ? { inputs: { ...ctx.inputs } } : {}),
    };
    return new Promise((resolve, reject) => {
      const call: Call = { ctx, resolve, reject, message, onAbort: () => this.#cancel(id, call) };
      this.#calls.set(id, call);
      ctx.signal.addEventListener('abort', call.onAbort, { once: true });
      this.#send(message);
      this.o.onState();
    });
  }

  /** Lets the worker go (it exits when its channel closes), killing it if it lingers; resolves once it exited. */
  stop(reason: 'idle' | 'stopped'): Promise<void> {
    if (!this.#ended && !this.#ending) {
      this.#ending = reason;
      this.o.onState();
      if (this.#child.connected) this.#child.disconnect();
      this.#killTimer = setTimeout(() => this.#killGroup(), this.o.killGraceMs);
    }
    return this.#exited;
  }

  #send(message: KiToWorker): void {
    if (!this.#ready) {
      this.#waiting.push(message);
      return;
    }
    // A channel closed under us: the exit that follows settles the call.
    if (this.#child.connected) this.#child.send(message, (err) => { if (err) this.o.log.debug({ err: err.message }, 'plug-in worker unreachable'); });
  }

  #cancel(id: number, call: Call): void {
    const waiting = this.#waiting.findIndex((m) => m === call.message);
    if (waiting >= 0) {
      this.#waiting.splice(waiting, 1);
      this.#settle(id, (c) => c.reject(abortedError(c.ctx.signal.reason)));
      return;
    }
    this.#send({ t: 'cancel', call: id, reason: String((call.ctx.signal.reason as Error | undefined)?.message ?? 'aborted') });
    call.killTimer = setTimeout(() => {
      this.o.log.warn({ gpus: this.o.key, pid: this.#child.pid, taskId: call.ctx.taskId, graceMs: this.o.killGraceMs }, 'plug-in call did not end after its cancel; killing its worker');
      this.#kill('killed');
    }, this.o.killGraceMs);
  }

  #onFrame(frame: string): void {
    let m: WorkerToKi;
    try {
      m = decodeWorkerFrame(frame);
    } catch (err) {
      this.#violation(err);
      return;
    }
    if (m.t === 'ready') {
      this.#ready = true;
      for (const waiting of this.#waiting.splice(0)) this.#send(waiting);
      this.o.onState();
      this.#idleIfUnused();
      return;
    }
    // Never believed beyond the calls it was given; a call that already ended may still get a late frame.
    if (m.call > this.#lastCall) return this.#violation(new WorkerProtocolError(`frame for call ${m.call}, which was never sent`));
    const call = this.#calls.get(m.call);
    if (!call) return;
    switch (m.t) {
      case 'emit': return call.ctx.emit(m.chunk);
      case 'progress': return call.ctx.progress(m.fraction, m.message);
      case 'result': return this.#settle(m.call, (c) => c.resolve(m.result));
      case 'error': return this.#settle(m.call, (c) => c.reject(fromWorkerError(m.error)));
    }
  }

  #settle(id: number, outcome: (call: Call) => void): void {
    const call = this.#calls.get(id);
    if (!call) return;
    this.#calls.delete(id);
    clearTimeout(call.killTimer);
    call.ctx.signal.removeEventListener('abort', call.onAbort);
    outcome(call);
    this.o.onState();
    this.#idleIfUnused();
  }

  #idleIfUnused(): void {
    if (this.#calls.size > 0 || this.o.idleMs === 0 || this.state === 'gone') return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => void this.stop('idle'), this.o.idleMs);
    this.#idleTimer.unref();
  }

  #violation(err: unknown): void {
    this.o.log.warn({ gpus: this.o.key, pid: this.#child.pid, err: (err as Error).message }, 'plug-in worker broke the protocol; killing it');
    this.#kill('protocol');
  }

  #kill(reason: WorkerEndReason): void {
    this.#ending ??= reason;
    this.#killGroup();
  }

  #killGroup(): void {
    if (this.#child.pid === undefined || !signalProcessGroup(this.#child.pid, 'SIGKILL')) this.#child.kill('SIGKILL');
  }

  #end(how: string): void {
    if (this.#ended) return;
    this.#ended = true;
    // Whatever it started goes with it: an orphan would keep its GPU memory.
    if (this.#child.pid !== undefined) signalProcessGroup(this.#child.pid, 'SIGKILL');
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#killTimer);
    const reason = this.#ending ?? 'exited';
    const text = `the plug-in worker for GPUs [${this.o.key}] ${reason === 'protocol' ? 'broke the protocol and was killed' : reason === 'killed' ? 'was killed: a call ignored its cancel' : how} while running the task`;
    for (const id of [...this.#calls.keys()]) this.#settle(id, (c) => c.reject(workerExitedError(text)));
    this.#waiting.length = 0;
    const level = reason === 'idle' || reason === 'stopped' ? 'info' : 'warn';
    this.o.log[level]({ gpus: this.o.key, pid: this.#child.pid, reason, how }, 'plug-in worker ended');
    this.o.onEnd(this, reason);
  }
}
