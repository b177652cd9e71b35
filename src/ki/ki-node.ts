import { setTimeout as sleep } from 'node:timers/promises';
import { MessageRejectedError } from '../errors';
import { ATTR, currentTraceparent, markFailed, SPAN, withSpan, type Span } from '../observability';
import { HeartbeatPublisher, type Heartbeat } from '../cluster';
import type { Service } from '../lifecycle';
import { type MessageOf, type TaskErrorData, type CarriedBy, CARRIES } from '../protocol';
import { requireSender } from '../security';
import type { ConsumerHandle, Received } from '../transport';
import { TaskExecutionError, type ExecutionContext, type Executor } from './executors/types';
import type { GpuDevice } from './gpu/types';
import { GpuUsage } from './gpu/gpu-usage';
import { AttemptReports, type AttemptReportsDeps } from './attempt-reports';
import type { Assignment, RunningTask } from './running-task';
import { StartedAttempts } from './started-attempts';
import { abortErrorData, abortReason } from './abort-reason';
import { toErrorData } from './task-error-data';
import type { ModelHost, ModelLease } from './model-host';

export interface KiNodeDeps extends AttemptReportsDeps {
  executors: Readonly<Record<string, Executor>>;
  gpus: GpuDevice[];
  /** Role written in heartbeats (standalone nodes heartbeat once per role they run). */
  startedAtMs?: number;
  /** Issued mode: this process's join instance, carried in heartbeats. */
  instance?: string;
  /** The identity its reputation, cordon and benches are kept under (see resolveStableId); absent: the node id. */
  stableId?: string;
  /** The models this Ki loads through its plug-in's hooks; without it, a task naming a model fails MODEL_UNAVAILABLE. */
  models?: ModelHost;
  /** Called when the leader moves this Ki to another group (issued mode: the token's group claim follows). */
  onGroupChange?: (group: string) => void;
}

/**
 * A Ki: takes assignments from its inbox, runs them with the configured executors within its slots,
 * reports start, progress and result to the An that sent them, and aborts on cancel or timeout.
 */
export class KiNode implements Service {
  readonly name = 'ki';
  readonly #running = new Map<string, RunningTask>();
  /** Highest attempt started per task: an assignment of one already run is not run again. */
  readonly #started: StartedAttempts;
  readonly #heartbeats: HeartbeatPublisher;
  /** Start, progress, output and result of each attempt, to its An. */
  readonly #reports: AttemptReports;
  #group: string;
  /** Set by config: the Ki stays in this group whatever the leader says. */
  readonly #pinned: boolean;
  /** Highest leader term seen in assignments; lower terms come from a deposed leader. */
  #term = 0;
  #inbox?: ConsumerHandle;
  #control?: ConsumerHandle;
  #draining = false;
  #starting?: Promise<void>;
  #stopping?: Promise<void>;
  readonly #startedAtMs: number;
  /** This Ki's GPUs, with the latest memory use and utilisation read (see {@link updateGpuUsage}). */
  readonly #gpus: GpuUsage;

  constructor(private readonly d: KiNodeDeps) {
    this.#gpus = new GpuUsage(d.gpus, d.metrics);
    this.#group = d.config.ki.group;
    this.#pinned = d.config.ki.group !== '';
    this.#startedAtMs = d.startedAtMs ?? Date.now();
    this.#started = new StartedAttempts(d.config.ki.attemptMemoryEntries, d.config.ki.attemptMemoryTtlMs);
    this.#heartbeats = new HeartbeatPublisher({ bus: d.bus, names: d.names, periodMs: d.config.cluster.heartbeatMs, log: d.log, describe: () => this.describe(), ...(d.instance ? { instance: d.instance } : {}) });
    this.#reports = new AttemptReports(d);
  }

  get slots(): number {
    return this.d.config.ki.slots;
  }

  get busy(): number {
    return this.#running.size;
  }

  get group(): string {
    return this.#group;
  }

  describe(): Heartbeat {
    return {
      // A draining Ki is still alive: its An must wait for the attempts it runs, not count them lost.
      v: 1, id: this.d.nodeId, role: 'ki', group: this.#group, status: 'alive', startedAtMs: this.#startedAtMs,
      state: this.#draining ? (this.busy === 0 ? 'drained' : 'draining') : 'active',
      ...(this.d.stableId && this.d.stableId !== this.d.nodeId ? { stableId: this.d.stableId } : {}),
      version: this.d.config.version, load: this.slots > 0 ? this.busy / this.slots : 1,
      slots: { total: this.#draining ? 0 : this.slots, busy: this.busy }, gpus: [...this.#gpus.devices],
      types: Object.keys(this.d.executors), labels: [...this.d.config.ki.labels], slotsPerGpu: Math.max(1, this.d.config.ki.slotsPerGpu),
      ...(this.d.models && this.d.models.types().length > 0 ? { models: this.d.models.describe(), modelTypes: this.d.models.types(), modelSlots: this.d.models.slots } : {}),
    };
  }

  start(): Promise<void> {
    return (this.#starting ??= this.#start());
  }

  async #start(): Promise<void> {
    const { names, nodeId, bus } = this.d;
    this.#control = await bus.subscribe(
      { name: `${names.control}.ki.${nodeId}.${process.pid}`, kind: 'transient', bindings: [
        { exchange: names.control, pattern: names.rk.cancel(nodeId) }, { exchange: names.control, pattern: names.rk.assign(nodeId) }, { exchange: names.control, pattern: names.rk.model(nodeId) },
      ] },
      64,
      CARRIES.kiControl,
      (r) => this.#onControl(r),
    );
    // Assignments are acked on receipt: the An owns retries, so prefetch only needs to cover the slots.
    // Replicated, like the An's: an inbox on one broker node would keep this Ki from reconnecting while that node is down.
    this.#inbox = await bus.subscribe({ name: names.inbox('ki', nodeId), kind: 'quorum' }, Math.max(1, this.slots * 2), CARRIES.kiInbox, (r) => this.#onAssign(r));
    this.#updateSlotMetrics();
    this.#heartbeats.start();
    await this.#heartbeats.beat().catch(() => undefined);
    this.d.log.info({ slots: this.slots, gpus: this.#gpus.devices.length, types: Object.keys(this.d.executors), group: this.#group }, 'ki ready');
  }

  #onControl({ msg, delivery }: Received<CarriedBy<'kiControl'>>): void {
    delivery.ack();
    switch (msg.type) {
      case 'task.cancel': return this.#onCancel(msg.payload);
      case 'node.assign': return this.#onGroupAssign(msg.payload, msg.sender);
      case 'model.command': return this.#onModelCommand(msg.payload, msg.sender);
    }
  }

  /** The leader's loads and unloads, fenced by its term like group assignments. */
  #onModelCommand(p: MessageOf<'model.command'>, from: string): void {
    if (p.ki !== this.d.nodeId || !this.d.models) return;
    if (p.term < this.#term) {
      this.d.log.warn({ term: p.term, highest: this.#term, from }, 'model command from a stale leader term refused');
      return;
    }
    this.#term = p.term;
    if (this.#draining) return;
    this.d.models.command(p.load, p.unload);
  }

  #onCancel(p: MessageOf<'task.cancel'>): void {
    const run = this.#running.get(p.taskId);
    if (run && p.attempt !== undefined && p.attempt !== run.attempt) {
      this.d.log.debug({ taskId: p.taskId, attempt: run.attempt, cancelled: p.attempt }, 'cancel of another attempt ignored');
    } else if (run) {
      this.d.log.info({ taskId: p.taskId, reason: p.reason }, 'cancelling task');
      run.abort.abort(abortReason('cancelled', `cancelled: ${p.reason}`));
    }
  }

  #onGroupAssign(p: MessageOf<'node.assign'>, from: string): void {
    if (p.nodeId !== this.d.nodeId || this.#pinned) return;
    if (p.term < this.#term) {
      this.d.log.warn({ term: p.term, highest: this.#term, from }, 'assignment from a stale leader term refused');
      return;
    }
    this.#term = p.term;
    if (p.group !== this.#group) {
      this.d.log.info({ group: p.group, previous: this.#group || null, term: p.term }, 'joined group');
      this.#group = p.group;
      void this.#heartbeats.beat().catch(() => undefined);
      this.d.onGroupChange?.(p.group);
    }
  }


  /**
   * Refusals throw before the ack, so the bus dead-letters the message and counts it: results go
   * to the An named in the payload, which must be the verified sender (else a node could have a
   * Ki report to, and be run on behalf of, another An); and an assignment sealed longer ago than
   * `ki.assignMaxAgeMs` was retried elsewhere long since (queued messages skip the envelope's
   * freshness check, so a replay from the broker would otherwise run it again). Nothing is
   * reported for either.
   */
  #onAssign({ msg, delivery }: Received<CarriedBy<'kiInbox'>>): void {
    const { an, items } = msg.payload;
    requireSender(msg, an, 'an');
    const maxAgeMs = this.d.config.ki.assignMaxAgeMs;
    const ageMs = Date.now() - msg.timestampMs;
    if (maxAgeMs > 0 && ageMs > maxAgeMs) {
      throw new MessageRejectedError('stale', `task.assign from ${msg.sender} sealed ${Math.round(ageMs)} ms ago is older than ki.assignMaxAgeMs (${maxAgeMs} ms)`);
    }
    delivery.ack();
    for (const item of items) this.#take({ ...item, an }, item.trace ?? msg.trace);
  }

  #take(a: Assignment, trace: string | undefined): void {
    const existing = this.#running.get(a.task.id);
    // A duplicate delivery of what already runs. Another An's assignment is not one: that An took the
    // task over (its first An died) and waits for the result of its own dispatch.
    if (existing && existing.an === a.an && existing.attempt >= a.attempt) return;
    if (this.#started.hasStarted(a.task.id, a.attempt, a.an)) {
      this.d.log.debug({ taskId: a.task.id, attempt: a.attempt, an: a.an }, 'assignment of an attempt already run here ignored');
      return;
    }
    if (existing) existing.abort.abort(abortReason('superseded', existing.an === a.an ? 'superseded by a newer attempt' : `superseded by a dispatch of ${a.an}`));
    const executor = this.d.executors[a.task.type];
    if (!executor) {
      void this.#reports.result(a, Date.now(), { code: 'UNKNOWN_TYPE', message: `no executor for task type "${a.task.type}" on ${this.d.nodeId}`, retryable: false });
      return;
    }
    if (this.#draining || this.#running.size >= this.slots) {
      void this.#reports.result(a, Date.now(), { code: 'KI_BUSY', message: `${this.d.nodeId} has no free slot`, retryable: true });
      return;
    }
    void withSpan(SPAN.taskExecute, { [ATTR.taskId]: a.task.id, [ATTR.taskType]: a.task.type, [ATTR.attempt]: a.attempt, [ATTR.nodeId]: this.d.nodeId, [ATTR.anId]: a.an },
      (span) => this.#run(a, executor, currentTraceparent() ?? trace, span), trace);
  }

  async #run(a: Assignment, executor: Executor, trace?: string, span?: Span): Promise<void> {
    const taskId = a.task.id;
    const log = this.d.log.child({ taskId, attempt: a.attempt, type: a.task.type });
    const abort = new AbortController();
    const run: RunningTask = { taskId, attempt: a.attempt, an: a.an, type: a.task.type, startedAtMs: Date.now(), abort, gpus: a.gpus };
    this.#running.set(taskId, run);
    this.#started.record(taskId, a.attempt, a.an);
    this.#updateSlotMetrics();
    this.d.metrics.taskExecutions.inc({ type: a.task.type });
    const timeout = a.task.timeoutMs > 0 ? setTimeout(() => abort.abort(abortReason('timeout', `timed out after ${a.task.timeoutMs} ms`)), a.task.timeoutMs) : undefined;
    const cancelStartedReport = this.#reports.startedLater(a, run.startedAtMs, log, trace);
    const output = this.#reports.output(a, log);
    let ctx: ExecutionContext = {
      taskId, attempt: a.attempt, type: a.task.type, signal: abort.signal, timeoutMs: a.task.timeoutMs, log,
      emit: (chunk) => output.emit(chunk),
      gpus: this.#gpus.of(a.gpus),
      ...(a.task.inputs ? { inputs: a.task.inputs } : {}),
      progress: this.#reports.progress(a),
    };
    let result: unknown;
    let error: TaskErrorData | undefined;
    let model: ModelLease | undefined;
    try {
      if (a.task.model) {
        model = await this.#modelFor(a);
        ctx = { ...ctx, model: model.handle };
      }
      result = await executor(a.task.payload, ctx);
      if (abort.signal.aborted) error = abortErrorData(abort.signal.reason);
    } catch (err) {
      error = abort.signal.aborted ? abortErrorData(abort.signal.reason) : toErrorData(err);
    } finally {
      model?.release();
      clearTimeout(timeout);
      cancelStartedReport();
      // The output goes before the result, so a client sees every chunk before the end.
      await output.close();
    }
    if (this.#running.get(taskId) === run) this.#running.delete(taskId);
    this.#updateSlotMetrics();
    if (error) {
      log.info({ code: error.code, err: error.message }, 'attempt failed');
      if (span) markFailed(span, error);
    }
    await this.#reports.result(a, run.startedAtMs, error, result, trace);
  }

  /** The loaded model a task names: resident, or loaded now from the descriptor its An sent (a cold start). */
  #modelFor(a: Assignment): Promise<ModelLease> {
    if (!this.d.models || !a.model || a.model.name !== a.task.model) {
      return Promise.reject(new TaskExecutionError(`${this.d.nodeId} cannot load model "${a.task.model ?? ''}"`, { code: 'MODEL_UNAVAILABLE', retryable: true }));
    }
    return this.d.models.acquire(a.model);
  }

  /** Sends a heartbeat now (a model changed state), not at the next period. */
  beatNow(): void {
    if (this.#starting) void this.#heartbeats.beat().catch(() => undefined);
  }

  /** A fresh reading of the GPUs (nvidia-smi): the next heartbeat and the metrics carry it. */
  updateGpuUsage(devices: GpuDevice[]): void {
    this.#gpus.update(devices);
    this.#updateSlotMetrics();
  }

  #updateSlotMetrics(): void {
    this.#gpus.report((index) => [...this.#running.values()].filter((r) => r.gpus.includes(index)).length);
    this.d.metrics.kiSlots.set({ state: 'busy' }, this.busy);
    this.d.metrics.kiSlots.set({ state: 'free' }, Math.max(0, this.slots - this.busy));
    this.d.metrics.tasksInFlight.set(this.busy);
  }

  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  /**
   * Drain: take no new work (heartbeats say `draining` with no slots, at once), give running
   * attempts the grace period to finish, then abort the rest (their An sees a retryable ABORTED
   * and runs them elsewhere), report `drained`, and say goodbye.
   */
  async #stop(): Promise<void> {
    this.#draining = true;
    // At once, not at the next beat: the Ans see no free slot here and place nothing more.
    // Not awaited: a broker that is away must not eat the grace the running attempts need.
    void this.#heartbeats.beat().catch(() => undefined);
    await this.#inbox?.cancel();
    const deadline = Date.now() + Math.max(0, this.d.config.shutdown.graceMs - 1000);
    while (this.#running.size > 0 && Date.now() < deadline) await sleep(50);
    for (const run of this.#running.values()) run.abort.abort(abortReason('shutdown', 'ki shutting down'));
    const abortDeadline = Date.now() + 1000;
    while (this.#running.size > 0 && Date.now() < abortDeadline) await sleep(20);
    await this.#reports.drain();
    await this.d.models?.unloadAll();
    void this.#heartbeats.beat().catch(() => undefined);
    await this.#heartbeats.stop();
    await this.#control?.cancel();
  }
}
