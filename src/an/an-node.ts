import type { AppConfig } from '../config/schema';
import { HeartbeatPublisher } from '../cluster/heartbeat-publisher';
import { Membership, type Heartbeat, type Member } from '../cluster/membership';
import { every, type Service } from '../lifecycle/service';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { MessageOf, TaskErrorData } from '../protocol/messages';
import type { TopologyNames } from '../protocol/names';
import { GroupCommitter } from '../store/group-commit';
import type { TaskProgress, TaskStatus } from '../store/task-record';
import type { TaskRepository } from '../store/task-repository';
import { backoffMs } from '../store/db';
import type { ConsumerHandle, MessageBus, Received } from '../transport';
import type { HeldTask } from './in-flight';
import { KiPool } from './ki-pool';
import { StateWriter } from './state-writer';

export interface AnNodeDeps {
  nodeId: string;
  config: AppConfig;
  bus: MessageBus;
  names: TopologyNames;
  repo: TaskRepository;
  log: Logger;
  metrics: Metrics;
}

const DB_RETRY_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An: pulls pending tasks as far as its group has free slots (prefetch = capacity), places each on a
 * Ki, and records dispatched → running → outcome with guarded, group-committed writes. The pending
 * delivery is acked only after the outcome is stored, so if this An dies the broker hands the task
 * to another An, which takes it over as a new attempt.
 */
export class AnNode implements Service {
  readonly name = 'an';
  readonly #held = new Map<string, HeldTask>();
  #waiting: HeldTask[] = [];
  readonly #pool: KiPool;
  readonly #kis: Membership;
  readonly #writer: StateWriter;
  readonly #progress: GroupCommitter<{ id: string; attempts: number; progress: TaskProgress }, void>;
  readonly #heartbeats: HeartbeatPublisher;
  readonly #group: string;
  #pending?: ConsumerHandle;
  #prefetch = -1;
  #stopTimers: (() => void)[] = [];
  #draining = false;
  #starting?: Promise<void>;
  #stopping?: Promise<void>;
  readonly #startedAtMs = Date.now();

  constructor(private readonly d: AnNodeDeps) {
    this.#group = d.config.an.group || d.nodeId;
    this.#pool = new KiPool(d.config.an.policy);
    this.#kis = new Membership(d.config.cluster);
    this.#writer = new StateWriter(d.repo, d.config.an.writeBatchMax);
    this.#progress = new GroupCommitter<{ id: string; attempts: number; progress: TaskProgress }, void>({ maxBatch: 200, maxConcurrent: 1, flush: async (items) => { await d.repo.saveProgress(items); return items.map(() => undefined); } });
    this.#heartbeats = new HeartbeatPublisher({ bus: d.bus, names: d.names, periodMs: d.config.cluster.heartbeatMs, log: d.log, describe: () => this.describe() });
  }

  get group(): string {
    return this.#group;
  }

  describe(): Heartbeat {
    return {
      v: 1, id: this.d.nodeId, role: 'an', group: this.#group, status: this.#draining ? 'leaving' : 'alive', startedAtMs: this.#startedAtMs,
      version: this.d.config.version, load: this.#pool.capacity > 0 ? this.#held.size / this.#pool.capacity : 0,
      slots: { total: this.#pool.capacity, busy: this.#held.size }, gpus: [], types: [], labels: [],
    };
  }

  start(): Promise<void> {
    return (this.#starting ??= this.#start());
  }

  async #start(): Promise<void> {
    const { bus, names, nodeId, log } = this.d;
    this.#kis.on('change', (m, prev) => this.#onKiStatus(m, prev));
    this.#kis.on('removed', (m) => this.#forgetKi(m.id));
    await bus.subscribe({ name: names.inbox('an', nodeId), kind: 'durable' }, 1000, (r) => this.#onInbox(r));
    await bus.subscribe(
      { name: `${names.control}.an.${nodeId}.${process.pid}`, kind: 'transient', bindings: [{ exchange: names.control, pattern: 'heartbeat.ki.*' }] },
      256,
      (r) => this.#onControl(r),
    );
    // Capacity is 0 until a Ki shows up: the pending queue is declared but not consumed.
    this.#pending = await bus.subscribe({ name: names.pending, kind: 'quorum' }, 0, (r) => this.#onPending(r));
    this.#prefetch = 0;
    const onError = (err: unknown) => log.warn({ err: (err as Error).message }, 'periodic task failed');
    this.#stopTimers.push(every(this.d.config.cluster.heartbeatMs, () => this.#kis.tick(), onError));
    this.#stopTimers.push(every(Math.max(200, Math.floor(this.d.config.an.leaseMs / 3)), () => this.#renewLeases(), onError));
    this.#heartbeats.start();
    log.info({ group: this.#group, policy: this.d.config.an.policy }, 'an ready');
  }

  // ---- membership of the group's Kis -------------------------------------------------------

  #onControl({ msg, delivery }: Received): void {
    delivery.ack();
    if (msg.type !== 'node.heartbeat') return;
    const kiHb = msg.payload as Heartbeat;
    if (kiHb.role !== 'ki') return;
    if (kiHb.group !== this.#group) {
      if (this.#pool.remove(kiHb.id)) this.#capacityChanged();
      return;
    }
    this.#kis.observe(kiHb);
    if (kiHb.status === 'leaving') return; // handled by the membership change to 'left'
    if (this.#pool.upsert(kiHb)) this.#capacityChanged();
  }

  #onKiStatus(m: Member, prev: string | undefined): void {
    if (m.status === 'dead' || m.status === 'left') {
      this.d.log.warn({ ki: m.id, status: m.status, prev }, 'ki lost');
      this.#forgetKi(m.id);
      for (const t of this.#held.values()) {
        if (t.ki === m.id) void this.#attemptLost(t, { code: 'KI_LOST', message: `ki ${m.id} is ${m.status}`, retryable: true });
      }
    }
  }

  #forgetKi(id: string): void {
    if (this.#pool.remove(id)) this.#capacityChanged();
  }

  #capacityChanged(): void {
    const target = this.#draining ? 0 : this.#pool.capacity;
    if (target !== this.#prefetch && this.#pending) {
      this.#prefetch = target;
      void this.#pending.setPrefetch(target);
    }
    this.#pump();
  }

  // ---- intake ------------------------------------------------------------------------------

  #onPending({ msg, delivery }: Received): void {
    const p = msg.payload as MessageOf<'task.pending'>;
    const held = this.#held.get(p.task.id) ?? this.#waiting.find((w) => w.spec.id === p.task.id);
    if (held) {
      // A second message for a task we hold (a republish, or a redelivery after our channel was
      // replaced): keep the newest handle, settle the old one.
      if (held.delivery !== delivery) {
        held.delivery.ack();
        held.delivery = delivery;
      }
      return;
    }
    this.#waiting.push({ spec: p.task, attempts: p.attempts, delivery, ...(msg.trace ? { trace: msg.trace } : {}) });
    this.#pump();
  }

  /** Places waiting tasks while slots are free. */
  #pump(): void {
    if (this.#draining || this.#waiting.length === 0) return;
    const still: HeldTask[] = [];
    for (const t of this.#waiting) {
      if (this.#pool.free === 0) { still.push(t); continue; }
      const ki = this.#pool.reserve(t.spec.type);
      if (ki) {
        void this.#dispatch(t, ki);
      } else if (this.#pool.capacity > 0 && !this.#pool.supports(t.spec.type)) {
        void this.#failUnplaceable(t);
      } else {
        still.push(t);
      }
    }
    this.#waiting = still;
  }

  async #failUnplaceable(t: HeldTask): Promise<void> {
    this.#held.set(t.spec.id, t);
    await this.#finish(t, 'failed', { result: null, error: { code: 'UNKNOWN_TYPE', message: `no Ki in group ${this.#group} runs task type "${t.spec.type}"`, retryable: false } }, ['queued']);
  }

  async #dispatch(t: HeldTask, ki: string): Promise<void> {
    this.#held.set(t.spec.id, t);
    t.ki = ki;
    const lease = { an: this.d.nodeId, ki, leaseMs: this.d.config.an.leaseMs, bumpAttempts: true, to: 'dispatched' as const };
    try {
      let applied = await this.#writer.apply({ id: t.spec.id, from: ['queued'], expectedAttempts: t.attempts, ...lease });
      if (!applied) {
        const row = await this.d.repo.get(t.spec.id);
        if (row?.status === 'queued') {
          applied = await this.#writer.apply({ id: t.spec.id, from: ['queued'], expectedAttempts: row.attempts, ...lease });
        } else if (row && (row.status === 'dispatched' || row.status === 'running') && (t.delivery.redelivered || row.an === this.d.nodeId)) {
          // Its An lost the message (crash or broken channel): take it over as a new attempt.
          if (row.attempts >= row.maxAttempts) {
            t.attempts = row.attempts;
            this.#pool.release(ki);
            t.ki = undefined;
            await this.#finish(t, 'failed', { result: null, error: row.error ?? { code: 'ATTEMPTS_EXHAUSTED', message: `no attempt finished after ${row.attempts} tries`, retryable: false } }, ['dispatched', 'running']);
            return;
          }
          this.d.metrics.tasksRetried.inc({ reason: 'takeover' });
          applied = await this.#writer.apply({ id: t.spec.id, from: ['dispatched', 'running'], expectedAttempts: row.attempts, ...lease });
        }
      }
      if (!applied) {
        // Finished, cancelled, deleted, or running under another An: this message is spent.
        this.#drop(t);
        return;
      }
      t.attempts = applied.attempts;
    } catch (err) {
      this.d.metrics.dbErrors.inc();
      this.d.log.warn({ taskId: t.spec.id, err: (err as Error).message }, 'dispatch not recorded; will retry');
      this.#pool.release(ki);
      t.ki = undefined;
      this.#held.delete(t.spec.id);
      setTimeout(() => { this.#waiting.push(t); this.#pump(); }, DB_RETRY_MS).unref();
      return;
    }
    this.d.metrics.tasksInFlight.set(this.#held.size);
    try {
      await this.d.bus.send({ queue: this.d.names.inbox('ki', ki) }, 'task.assign', { v: 1, task: t.spec, attempt: t.attempts, an: this.d.nodeId, gpus: [] }, t.trace ? { trace: t.trace } : {});
    } catch (err) {
      await this.#attemptLost(t, { code: 'KI_UNREACHABLE', message: `assignment to ${ki} failed: ${(err as Error).message}`, retryable: true });
    }
  }

  /** Lets go of a task without writing anything (someone else owns its state). */
  #drop(t: HeldTask): void {
    t.delivery.ack();
    if (t.ki) this.#pool.release(t.ki);
    t.ki = undefined;
    this.#held.delete(t.spec.id);
    this.d.metrics.tasksInFlight.set(this.#held.size);
    this.#pump();
  }

  // ---- reports from Kis ---------------------------------------------------------------------

  #onInbox({ msg, delivery }: Received): void {
    delivery.ack();
    switch (msg.type) {
      case 'task.started': {
        const p = msg.payload as MessageOf<'task.started'>;
        const t = this.#current(p.taskId, p.attempt, p.ki);
        if (!t) return;
        t.startedAtMs = p.startedAtMs;
        this.#writer.apply({ id: p.taskId, from: ['dispatched'], to: 'running', expectedAttempts: p.attempt, startedAt: new Date(p.startedAtMs) })
          .catch((err: Error) => this.d.log.debug({ taskId: p.taskId, err: err.message }, 'running state not recorded'));
        return;
      }
      case 'task.progress': {
        const p = msg.payload as MessageOf<'task.progress'>;
        if (!this.#current(p.taskId, p.attempt)) return;
        this.#progress.submit({ id: p.taskId, attempts: p.attempt, progress: { fraction: p.fraction, ...(p.message ? { message: p.message } : {}), atMs: Date.now() } })
          .catch(() => undefined);
        return;
      }
      case 'task.result': {
        const p = msg.payload as MessageOf<'task.result'>;
        const t = this.#current(p.taskId, p.attempt, p.ki);
        if (!t) return; // a late result of an attempt that was already replaced: it changes nothing
        void this.#onResult(t, p);
        return;
      }
      default:
        return;
    }
  }

  #current(taskId: string, attempt: number, ki?: string): HeldTask | undefined {
    const t = this.#held.get(taskId);
    return t && t.attempts === attempt && (ki === undefined || t.ki === ki) ? t : undefined;
  }

  async #onResult(t: HeldTask, p: MessageOf<'task.result'>): Promise<void> {
    if (t.ki) this.#pool.release(t.ki);
    t.ki = undefined;
    const times = { startedAt: new Date(p.startedAtMs), finishedAt: new Date(p.finishedAtMs) };
    if (p.ok) return this.#finish(t, 'succeeded', { result: p.result ?? null, error: null }, ['dispatched', 'running'], times);
    const error = p.error ?? { code: 'UNKNOWN', message: 'attempt failed without an error', retryable: false };
    if (error.retryable && t.attempts < t.spec.maxAttempts) return this.#retryLater(t, error);
    return this.#finish(t, 'failed', { result: null, error }, ['dispatched', 'running'], times);
  }

  /** The attempt's Ki is gone: try again elsewhere, or fail when attempts are used up. */
  async #attemptLost(t: HeldTask, error: TaskErrorData): Promise<void> {
    if (t.ki) this.#pool.release(t.ki);
    t.ki = undefined;
    if (t.attempts < t.spec.maxAttempts) return this.#retryLater(t, error);
    return this.#finish(t, 'failed', { result: null, error }, ['dispatched', 'running']);
  }

  /** Back to queued (still held here), then dispatched again after a jittered backoff. */
  async #retryLater(t: HeldTask, error: TaskErrorData): Promise<void> {
    this.d.metrics.tasksRetried.inc({ reason: error.code });
    const back = { id: t.spec.id, from: ['dispatched', 'running'] as TaskStatus[], to: 'queued' as const, expectedAttempts: t.attempts, ki: null, outcome: { result: null, error } };
    let applied;
    for (;;) {
      try {
        applied = await this.#writer.apply(back);
        break;
      } catch (err) {
        this.d.metrics.dbErrors.inc();
        this.d.log.warn({ taskId: t.spec.id, err: (err as Error).message }, 'requeue not recorded; retrying');
        await sleep(DB_RETRY_MS);
      }
    }
    if (!applied) return this.#drop(t);
    this.#held.delete(t.spec.id);
    const delay = backoffMs(t.attempts, this.d.config.an.retryBaseMs, this.d.config.an.retryMaxMs, 0.3);
    this.d.log.info({ taskId: t.spec.id, attempts: t.attempts, code: error.code, delayMs: delay }, 'attempt will be retried');
    setTimeout(() => { this.#waiting.push(t); this.#pump(); }, delay).unref();
  }

  /** Stores the outcome (retrying while the DB is away), then acks the pending delivery. */
  async #finish(t: HeldTask, status: 'succeeded' | 'failed', outcome: { result: unknown; error: TaskErrorData | null }, from: TaskStatus[], times?: { startedAt: Date; finishedAt: Date }): Promise<void> {
    const transition = { id: t.spec.id, from, to: status, expectedAttempts: t.attempts, leaseMs: null, outcome, finishedAt: times?.finishedAt ?? new Date(), ...(times ? { startedAt: times.startedAt } : {}) };
    let applied;
    for (;;) {
      try {
        applied = await this.#writer.apply(transition);
        break;
      } catch (err) {
        this.d.metrics.dbErrors.inc();
        this.d.log.warn({ taskId: t.spec.id, err: (err as Error).message }, 'outcome not recorded; retrying');
        await sleep(DB_RETRY_MS);
        if (this.#held.get(t.spec.id) !== t) return; // taken back by shutdown
      }
    }
    this.#drop(t);
    if (!applied) return;
    const finishedAtMs = transition.finishedAt.getTime();
    this.d.metrics.tasksFinished.inc({ status });
    this.d.metrics.taskDuration.observe({ status }, Math.max(0, finishedAtMs - t.spec.createdAtMs) / 1000);
    if (status === 'failed') this.d.log.info({ taskId: t.spec.id, attempts: t.attempts, code: outcome.error?.code }, 'task failed');
    this.d.bus.send({ exchange: this.d.names.control, routingKey: this.d.names.rk.event(status) }, 'task.event', { v: 1, taskId: t.spec.id, status, owner: t.spec.owner, attempts: t.attempts, finishedAtMs })
      .catch(() => undefined);
  }

  async #renewLeases(): Promise<void> {
    const ids = [...this.#held.values()].filter((t) => t.ki).map((t) => t.spec.id);
    if (ids.length === 0) return;
    await this.d.repo.renewLeases(this.d.nodeId, ids, this.d.config.an.leaseMs);
  }

  // ---- shutdown -----------------------------------------------------------------------------

  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  /**
   * Drain: stop taking tasks, let running ones finish within the grace period, then hand the rest
   * back (cancel on the Ki, state back to queued, message back to the queue) for another An.
   */
  async #stop(): Promise<void> {
    this.#draining = true;
    await this.#pending?.cancel();
    for (const t of this.#waiting) t.delivery.requeue();
    this.#waiting = [];
    const deadline = Date.now() + Math.max(0, this.d.config.shutdown.graceMs - 1500);
    while (this.#held.size > 0 && Date.now() < deadline) await sleep(50);
    for (const t of [...this.#held.values()]) {
      if (t.ki) {
        await this.d.bus.send({ exchange: this.d.names.control, routingKey: this.d.names.rk.cancel(t.ki) }, 'task.cancel', { v: 1, taskId: t.spec.id, reason: 'an shutting down; task handed back' }).catch(() => undefined);
      }
      await this.#writer.apply({ id: t.spec.id, from: ['dispatched', 'running', 'queued'], to: 'queued', expectedAttempts: t.attempts, an: null, ki: null, leaseMs: null }).catch(() => undefined);
      this.#held.delete(t.spec.id);
      t.delivery.requeue();
    }
    for (const stop of this.#stopTimers) stop();
    await this.#writer.drain();
    await this.#progress.drain();
    await this.#heartbeats.stop();
  }
}

