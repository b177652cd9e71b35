import type { AppConfig } from '../config/schema';
import { ATTR, currentTraceparent, SPAN, withSpan } from '../observability';
import { HeartbeatPublisher } from '../cluster/heartbeat-publisher';
import { Membership, type Heartbeat, type Member } from '../cluster/membership';
import { requireOwnHeartbeat } from '../cluster/heartbeat-binding';
import { reportRefusedMembers } from '../cluster/membership-refusals';
import { requireSender } from '../security/sender-binding';
import { every, type Service } from '../lifecycle/service';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { PENDING_TASKS_PER_MESSAGE, type AssignItem, type MessageOf, type PendingItem, type ResultItem, type TaskErrorData } from '../protocol/messages';
import type { TopologyNames } from '../protocol/names';
import { GroupCommitter } from '../store/group-commit';
import type { TaskProgress, TaskStatus } from '../store/task-record';
import type { AppliedTransition, TaskRepository, Transition } from '../store/task-repository';
import type { ReputationRepository } from '../store/reputation-repository';
import { backoffMs } from '../store/db';
import { BatchSender, type ConsumerHandle, type Delivery, type MessageBus, type Received } from '../transport';
import { FairWaitQueue } from './fair-wait-queue';
import { splitDelivery } from './pending-parts';
import type { HeldTask } from './in-flight';
import { KiPool, unfitReason } from './ki-pool';
import { StateWriter } from './state-writer';
import { storableReport, unstorableError, RESULT_UNSTORABLE, type ResultLimits } from './result-check';
import { isDataError } from '../errors';
import { EventBatcher } from './event-batcher';
import { canonicalJson, VoteTally } from './vote-tally';
import type { Replica } from './in-flight';

export interface AnNodeDeps {
  nodeId: string;
  config: AppConfig;
  bus: MessageBus;
  names: TopologyNames;
  repo: TaskRepository;
  reputation: ReputationRepository;
  log: Logger;
  metrics: Metrics;
  /** Issued mode: this process's join instance, carried in heartbeats. */
  instance?: string;
}

const DB_RETRY_MS = 500;
/** A task waiting this long for a slot goes back to the queue, where a less busy An may take it. */
const MAX_WAIT_MS = 30_000;
/** Reputation lost by a Ki in the minority of a vote, and the score at which it is quarantined. */
const MINORITY_PENALTY = 5;
const QUARANTINE_AT = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * A single-replica task taken from a pending message is assigned at once and its dispatch recorded
 * only this long after: most short tasks report their outcome first, and their outcome is then
 * written with the dispatch in one row version (queued → terminal). Until one of the two is stored
 * the pending message stays unacked, so a crash of this An still brings the task back.
 */
const DISPATCH_RECORD_DELAY_MS = 100;
/** Assignments per `task.assign` message. */
const ASSIGN_BATCH_MAX = 500;

/** What the An's write resolves when the store refused the values of the transition. */
const REFUSED = Symbol('refused');

/** The failure stored in place of an outcome the store refused (a fixed text: the DB's own stays in the log). */
function refusedError(original: TaskErrorData | null | undefined): TaskErrorData {
  const what = original ? `the error ${original.code.slice(0, 64)} of the attempt` : 'the result of the attempt';
  return unstorableError(`the task store refused ${what}`);
}

/** One replica's report, as the handlers use it: a result item with the Ki that sent it. */
type KiResult = ResultItem & { ki: string };

/**
 * An: takes pending tasks from the priority-band queues into a bounded look-ahead window, places
 * them on the Kis of its group by priority, fairness, resources and policy, and records
 * dispatched → running → outcome with guarded, group-committed writes fenced by the attempt.
 * A pending message is acked once its dispatch is stored; from then on the lease (renewed here)
 * and the leader's requeue of a dead An's tasks protect it.
 */
export class AnNode implements Service {
  readonly name = 'an';
  readonly #held = new Map<string, HeldTask>();
  readonly #waiting = new FairWaitQueue<HeldTask>();
  /** Replicas still running after their task's vote was decided: their answers only update reputation. */
  readonly #verifying = new Map<string, { attempt: number; agreed: string; runs: Map<string, Replica> }>();
  readonly #pool: KiPool;
  readonly #kis: Membership;
  readonly #writer: StateWriter;
  readonly #progress: GroupCommitter<{ id: string; attempts: number; progress: TaskProgress }, void>;
  readonly #heartbeats: HeartbeatPublisher;
  readonly #events: EventBatcher;
  /** Assignments, one message per Ki for all tasks placed on it at once. */
  readonly #assigns: BatchSender<AssignItem>;
  readonly #group: string;
  readonly #resultLimits: ResultLimits;
  #bands: ConsumerHandle[] = [];
  #window = -1;
  /** Tasks the window may hold (a pending message carries several). */
  #windowTasks = 0;
  /**
   * Moving mean of the tasks per pending message, which sizes the prefetch. It starts at a full
   * message: a backlog already in the queue arrives all at once, before any mean could adapt.
   */
  #tasksPerMessage = PENDING_TASKS_PER_MESSAGE;
  /** Intake paused because more tasks wait here than the window is for. */
  #overfull = false;
  #stopTimers: (() => void)[] = [];
  #draining = false;
  #starting?: Promise<void>;
  #stopping?: Promise<void>;
  readonly #startedAtMs = Date.now();

  constructor(private readonly d: AnNodeDeps) {
    this.#group = d.config.an.group || d.nodeId;
    this.#resultLimits = { maxBytes: d.config.an.maxResultBytes, maxDepth: d.config.an.maxResultDepth };
    this.#pool = new KiPool(d.config.an.policy);
    this.#kis = new Membership(d.config.cluster);
    reportRefusedMembers(this.#kis, { log: d.log, counter: d.metrics.membershipRefused, maxMembers: d.config.cluster.maxMembers });
    this.#writer = new StateWriter(d.repo, d.config.an.writeBatchMax, (n) => d.metrics.batchItems.observe({ batch: 'state' }, n));
    this.#progress = new GroupCommitter<{ id: string; attempts: number; progress: TaskProgress }, void>({
      maxBatch: 200, maxConcurrent: 1,
      flush: async (items) => { await d.repo.saveProgress(items); return items.map(() => undefined); },
      // One progress message the store refuses must not drop the others of its batch.
      isItemError: isDataError,
      onBatch: (n) => d.metrics.batchItems.observe({ batch: 'progress' }, n),
    });
    this.#heartbeats = new HeartbeatPublisher({ bus: d.bus, names: d.names, periodMs: d.config.cluster.heartbeatMs, log: d.log, describe: () => this.describe(), ...(d.instance ? { instance: d.instance } : {}) });
    this.#assigns = new BatchSender<AssignItem>({
      maxItems: ASSIGN_BATCH_MAX,
      send: (ki, items) => d.bus.sendMany({ queue: d.names.inbox('ki', ki) }, 'task.assign', items, (batch) => ({ v: 1, an: d.nodeId, items: batch })),
      onBatch: (n) => d.metrics.batchItems.observe({ batch: 'assign' }, n),
    });
    this.#events = new EventBatcher((events) => d.bus.send({ exchange: d.names.control, routingKey: d.names.rk.event('finished') }, 'task.event', { v: 1, events }));
  }

  get group(): string {
    return this.#group;
  }

  describe(): Heartbeat {
    const inFlight = this.#held.size - this.#waiting.size;
    return {
      v: 1, id: this.d.nodeId, role: 'an', group: this.#group, status: this.#draining ? 'leaving' : 'alive', startedAtMs: this.#startedAtMs,
      version: this.d.config.version, load: this.#pool.capacity > 0 ? inFlight / this.#pool.capacity : 0,
      slots: { total: this.#pool.capacity, busy: inFlight }, gpus: [], types: [], labels: [],
    };
  }

  start(): Promise<void> {
    return (this.#starting ??= this.#start());
  }

  async #start(): Promise<void> {
    const { bus, names, nodeId, log } = this.d;
    this.#kis.on('change', (m, prev) => this.#onKiStatus(m, prev));
    this.#kis.on('removed', (m) => this.#forgetKi(m.id));
    await bus.subscribe({ name: names.inbox('an', nodeId), kind: 'durable' }, 2000, ['task.started', 'task.progress', 'task.result'], (r) => this.#onInbox(r));
    await bus.subscribe({ name: `${names.control}.an.${nodeId}.${process.pid}`, kind: 'transient', bindings: [{ exchange: names.control, pattern: 'heartbeat.ki.*' }] }, 256, ['node.heartbeat'], (r) => this.#onControl(r));
    // Window 0 until a Ki joins the group: the queues are declared but not consumed.
    for (const q of names.pendingBands) this.#bands.push(await bus.subscribe({ name: q, kind: 'quorum' }, 0, ['task.pending'], (r) => this.#onPending(r)));
    this.#window = 0;
    const onError = (err: unknown) => log.warn({ err: (err as Error).message }, 'periodic task failed');
    this.#stopTimers.push(every(this.d.config.cluster.heartbeatMs, () => { this.#kis.tick(); this.#releaseStaleWaiting(); }, onError));
    this.#stopTimers.push(every(Math.max(200, Math.floor(this.d.config.an.leaseMs / 3)), () => this.#renewLeases(), onError));
    this.#stopTimers.push(every(2000, async () => { this.#pool.setQuarantined(await this.d.reputation.quarantined()); this.#windowChanged(); }, onError));
    this.#heartbeats.start();
    log.info({ group: this.#group, policy: this.d.config.an.policy }, 'an ready');
  }

  // ---- Kis: membership of the whole cluster, pool of the group -----------------------------

  #onControl({ msg, delivery }: Received): void {
    // Before the ack: a heartbeat for another node throws, and the bus dead-letters and counts it.
    const hb = requireOwnHeartbeat(msg);
    delivery.ack();
    if (hb.role !== 'ki') return;
    if (!this.#kis.observe(hb)) return;
    if (hb.group !== this.#group || hb.status === 'leaving') {
      if (this.#pool.remove(hb.id)) this.#windowChanged();
      return;
    }
    if (this.#pool.upsert(hb)) this.#windowChanged();
  }

  #onKiStatus(m: Member, prev: string | undefined): void {
    if (m.status !== 'dead' && m.status !== 'left') return;
    if (this.#pool.has(m.id)) this.d.log.warn({ ki: m.id, status: m.status, prev }, 'ki lost');
    this.#forgetKi(m.id);
    for (const v of this.#verifying.values()) v.runs.delete(m.id);
    for (const t of [...this.#held.values()]) {
      if (t.runs.has(m.id)) void this.#replicaLost(t, m.id, { code: 'KI_LOST', message: `ki ${m.id} is ${m.status}`, retryable: true });
    }
  }

  #forgetKi(id: string): void {
    if (this.#pool.remove(id)) this.#windowChanged();
  }

  /** Kis of any group that could take work: the cluster-wide view for "could this ever run?". */
  #clusterKis(): Heartbeat[] {
    return this.#kis.list().filter((m) => m.status === 'alive' || m.status === 'suspect').map((m) => m.heartbeat);
  }

  /**
   * The look-ahead window per band: several times the group's capacity (at least 256), so
   * priorities and fairness have a choice, while the backlog itself stays in RabbitMQ. A task
   * that waits here too long goes back (see {@link MAX_WAIT_MS}) for a less busy An.
   */
  #windowChanged(): void {
    const capacity = this.#pool.capacity;
    this.#windowTasks = this.#draining || capacity === 0 ? 0 : Math.min(2000, Math.max(256, capacity * 8));
    this.#applyWindow();
    this.#pump();
  }

  /**
   * Prefetch counts messages, and a pending message carries several tasks: intake pauses while
   * more tasks wait here than the window is for, and resumes once half of them were placed.
   */
  #applyWindow(): void {
    const waiting = this.#waiting.size;
    if (!this.#overfull && waiting > this.#windowTasks) this.#overfull = true;
    else if (this.#overfull && waiting <= this.#windowTasks / 2) this.#overfull = false;
    const target = this.#overfull ? 0 : this.#prefetchFor(this.#windowTasks);
    if (target !== this.#window) {
      this.#window = target;
      for (const b of this.#bands) void b.setPrefetch(target);
    }
  }

  /**
   * Prefetch counts messages: the window in tasks divided by the tasks a pending message has been
   * carrying (one at low load, up to 64 under load), so a backlog of full messages cannot fill
   * the heap with 64 times the window; but never fewer messages than the group has slots, so
   * one-task messages can still keep every slot busy. It moves in powers of two, so that each
   * change (a new subscription on the broker) is rare.
   */
  #prefetchFor(windowTasks: number): number {
    if (windowTasks <= 0) return 0;
    const perMessage = 2 ** Math.floor(Math.log2(Math.max(1, this.#tasksPerMessage)));
    return Math.min(windowTasks, Math.max(this.#pool.capacity, Math.ceil(windowTasks / perMessage)));
  }

  // ---- intake and placement ----------------------------------------------------------------

  #onPending({ msg, delivery }: Received): void {
    const { items } = msg.payload as MessageOf<'task.pending'>;
    this.#tasksPerMessage += (items.length - this.#tasksPerMessage) * 0.1;
    const parts = splitDelivery(delivery, items, (item) => this.#republish(item));
    // A pending message sits in a queue, so an old copy opens: put back by a broker user, it would
    // have a finished task run again. Only a fresh first delivery may be assigned before its
    // dispatch is recorded; any other is recorded first, and its guard refuses a finished task.
    const fresh = !delivery.redelivered && Math.abs(Date.now() - msg.timestampMs) <= this.d.config.security.replayWindowMs;
    items.forEach((item, i) => this.#take(item, parts[i]!, item.trace ?? msg.trace, fresh));
    this.#pump();
    this.#applyWindow();
  }

  /** Sends one task back to the pending queue of its band, on its own. */
  #republish(item: PendingItem): Promise<void> {
    return this.d.bus.send({ queue: this.d.names.pendingFor(item.task.priority) }, 'task.pending', { v: 1, items: [item] }, { persistent: true });
  }

  #take(p: PendingItem, delivery: Delivery, trace: string | undefined, fresh: boolean): void {
    const held = this.#held.get(p.task.id);
    if (held) {
      // Another message for a task we already hold (a republish): keep one, settle the other.
      if (held.delivery && held.delivery !== delivery) held.delivery.ack();
      if (held.delivery) held.delivery = delivery;
      else delivery.ack();
      return;
    }
    const t: HeldTask = { spec: p.task, attempts: p.attempts, delivery, hops: p.hops ?? 0, runs: new Map(), sinceMs: Date.now(), ...(trace ? { trace } : {}), ...(fresh ? {} : { recordFirst: true }) };
    this.#held.set(t.spec.id, t);
    this.#waiting.push(t);
  }

  /** Places waiting tasks, best first, while the group has room. */
  #pump(): void {
    // Resume intake even when nothing is left to place (e.g. the waiting tasks went back as stale).
    if (this.#overfull) this.#applyWindow();
    if (this.#draining || this.#waiting.size === 0 || this.#pool.free === 0) return;
    const placedNow: HeldTask[] = [];
    const unplaceable: { t: HeldTask; reason: string | null }[] = [];
    for (const t of this.#waiting.candidates()) {
      if (this.#pool.free === 0) break;
      const replicas = t.spec.redundancy?.replicas ?? 1;
      const placed: { ki: string; gpus: number[]; reservation: ReturnType<KiPool['place']> }[] = [];
      const used = new Set<string>();
      let never: string | undefined;
      for (let i = 0; i < replicas; i++) {
        const p = this.#pool.place(t.spec, used);
        if (p.kind !== 'placed') { if (p.kind === 'never' && i === 0) never = p.reason; break; }
        used.add(p.ki);
        placed.push({ ki: p.ki, gpus: p.gpus, reservation: p });
      }
      if (placed.length === replicas) {
        for (const p of placed) t.runs.set(p.ki, { gpus: p.gpus, reservation: p.reservation.kind === 'placed' ? p.reservation.reservation : null });
        placedNow.push(t);
        continue;
      }
      for (const p of placed) this.#pool.release(p.ki, p.reservation.kind === 'placed' ? p.reservation.reservation : null);
      if (never !== undefined || replicas > 1) {
        const clusterKis = this.#clusterKis();
        const clusterReason = replicas > 1 && clusterKis.length < replicas
          ? `redundancy needs ${replicas} distinct Kis; the cluster has ${clusterKis.length}`
          : unfitReason(t.spec, clusterKis);
        if (clusterReason || never !== undefined) unplaceable.push({ t, reason: clusterReason });
      }
    }
    for (const t of placedNow) {
      this.#waiting.served(t);
      void this.#dispatch(t);
    }
    if (this.#overfull) this.#applyWindow();
    for (const { t, reason } of unplaceable) {
      this.#waiting.remove(t);
      if (reason) void this.#failUnplaceable(t, reason);
      else void this.#handOn(t);
    }
  }

  /** Nothing in the cluster could ever run it: fail now, saying why. */
  async #failUnplaceable(t: HeldTask, reason: string): Promise<void> {
    this.d.log.info({ taskId: t.spec.id, reason }, 'task cannot run anywhere');
    await this.#finish(t, 'failed', { result: null, error: { code: 'UNSATISFIABLE', message: reason, retryable: false } }, ['queued']);
  }

  /** Another group could run it: put it back for the other Ans, a little later each time. */
  async #handOn(t: HeldTask): Promise<void> {
    // Let go first: the new message may come back to this very An before the send resolves, and
    // must then be taken as a new task, not as a duplicate of this one.
    const original = t.delivery;
    t.delivery = undefined;
    this.#held.delete(t.spec.id);
    await sleep(Math.min(2000, 100 * 2 ** Math.min(5, t.hops)));
    try {
      await this.#republish({ task: t.spec, attempts: t.attempts, hops: t.hops + 1, ...(t.trace ? { trace: t.trace } : {}) });
      original?.ack();
    } catch {
      original?.requeue();
    }
  }

  /** Waiting too long for a slot here: back to the queue so another An may take it. */
  #releaseStaleWaiting(): void {
    const cutoff = Date.now() - MAX_WAIT_MS;
    for (const t of this.#waiting.takeWhere((w) => w.sinceMs < cutoff && w.delivery !== undefined)) {
      const original = t.delivery;
      t.delivery = undefined;
      this.#held.delete(t.spec.id);
      original?.requeue();
    }
    if (this.#overfull) this.#applyWindow();
  }

  /** Records the dispatch and assigns the attempt, in the task's trace (from receipt of the pending message). */
  #dispatch(t: HeldTask): Promise<void> {
    return withSpan(SPAN.taskSchedule, { [ATTR.taskId]: t.spec.id, [ATTR.taskType]: t.spec.type, [ATTR.nodeId]: this.d.nodeId, [ATTR.kiId]: [...t.runs.keys()].join(',') },
      () => this.#dispatchAttempt(t), t.trace, { startTimeMs: t.sinceMs });
  }

  async #dispatchAttempt(t: HeldTask): Promise<void> {
    if (t.delivery && t.runs.size === 1 && !t.recordFirst && !(t.spec.redundancy && t.spec.redundancy.replicas > 1)) return this.#assignUnrecorded(t);
    const kis = [...t.runs.keys()];
    const lease = { an: this.d.nodeId, ki: kis.join(','), leaseMs: this.d.config.an.leaseMs, bumpAttempts: true, to: 'dispatched' as const };
    try {
      let applied = await this.#writer.apply({ id: t.spec.id, from: ['queued'], expectedAttempts: t.attempts, ...lease });
      if (!applied) {
        const row = await this.d.repo.get(t.spec.id);
        if (row?.status === 'queued') {
          applied = await this.#writer.apply({ id: t.spec.id, from: ['queued'], expectedAttempts: row.attempts, ...lease });
        } else if (row && (row.status === 'dispatched' || row.status === 'running') && row.leaseExpiresAt && row.leaseExpiresAt.getTime() < Date.now()) {
          // Its An stopped renewing the lease: take it over as a new attempt.
          if (row.attempts >= row.maxAttempts) {
            t.attempts = row.attempts;
            this.#releaseRuns(t);
            await this.#finish(t, 'failed', { result: null, error: row.error ?? { code: 'ATTEMPTS_EXHAUSTED', message: `no attempt finished after ${row.attempts} tries`, retryable: false } }, ['dispatched', 'running']);
            return;
          }
          this.d.metrics.tasksRetried.inc({ reason: 'takeover' });
          applied = await this.#writer.apply({ id: t.spec.id, from: ['dispatched', 'running'], expectedAttempts: row.attempts, ...lease });
        }
      }
      if (!applied) return this.#drop(t); // finished, cancelled, deleted, or running under another An
      t.attempts = applied.attempts;
    } catch (err) {
      this.d.metrics.dbErrors.inc();
      this.d.log.warn({ taskId: t.spec.id, err: (err as Error).message }, 'dispatch not recorded; will retry');
      this.#releaseRuns(t);
      setTimeout(() => { t.sinceMs = Date.now(); this.#waiting.push(t); this.#pump(); }, DB_RETRY_MS).unref();
      return;
    }
    t.delivery?.ack();
    t.delivery = undefined;
    const redundancy = t.spec.redundancy;
    t.tally = redundancy && redundancy.replicas > 1 ? new VoteTally(redundancy.replicas, redundancy.quorum) : undefined;
    this.#updateInFlight();
    this.#sendAssignments(t);
  }

  /** Assigns now and records the dispatch later, unless the outcome is stored first (it then records both). */
  #assignUnrecorded(t: HeldTask): void {
    const base = t.attempts;
    const ki = [...t.runs.keys()].join(',');
    t.attempts = base + 1;
    t.tally = undefined;
    t.claim = { state: 'deferred', base, ki, timer: setTimeout(() => this.#recordDispatch(t), DISPATCH_RECORD_DELAY_MS) };
    this.#updateInFlight();
    this.#sendAssignments(t);
  }

  /** The deferred dispatch record is due: the task still runs. Its success acks the pending message. */
  #recordDispatch(t: HeldTask): void {
    const c = t.claim;
    if (c?.state !== 'deferred' || this.#held.get(t.spec.id) !== t) return;
    const running = t.firstStartedAtMs !== undefined;
    const done = (async () => {
      let applied;
      try {
        applied = await this.#writer.apply({
          id: t.spec.id, from: ['queued'], expectedAttempts: c.base, bumpAttempts: true, an: this.d.nodeId, ki: c.ki, leaseMs: this.d.config.an.leaseMs,
          to: running ? 'running' : 'dispatched', ...(running ? { startedAt: new Date(t.firstStartedAtMs!) } : {}),
        });
      } catch (err) {
        this.d.metrics.dbErrors.inc();
        this.d.log.warn({ taskId: t.spec.id, err: (err as Error).message }, 'dispatch not recorded; will retry');
        t.claim = { ...c, timer: setTimeout(() => this.#recordDispatch(t), DB_RETRY_MS) };
        return;
      }
      t.claim = undefined;
      if (this.#held.get(t.spec.id) !== t) return;
      if (!applied) return this.#unassign(t, c.base);
      t.delivery?.ack();
      t.delivery = undefined;
      if (!running && t.firstStartedAtMs !== undefined) this.#recordRunning(t.spec.id, t.attempts, t.firstStartedAtMs);
    })();
    t.claim = { state: 'writing', done };
  }

  /**
   * An unrecorded dispatch whose guard failed (cancelled, finished or taken meanwhile, or the
   * pending message was stale): stop its run and dispatch it again the usual way, which reads the
   * row and decides.
   */
  #unassign(t: HeldTask, base: number): void {
    for (const ki of t.runs.keys()) {
      void this.d.bus.send({ exchange: this.d.names.control, routingKey: this.d.names.rk.cancel(ki) }, 'task.cancel', { v: 1, taskId: t.spec.id, reason: 'dispatch not recorded', attempt: t.attempts }).catch(() => undefined);
    }
    this.#releaseRuns(t);
    t.attempts = base;
    t.claim = undefined;
    t.recordFirst = true;
    t.firstStartedAtMs = undefined;
    t.sinceMs = Date.now();
    this.#waiting.push(t);
    this.#pump();
  }

  /**
   * The guard of an outcome's write: with the dispatch still unrecorded, this write records it too
   * (from queued at the attempts the pending message had). Waits for a record already on its way,
   * so that the two never meet in one batch.
   */
  async #guardOf(t: HeldTask, from: TaskStatus[]): Promise<{ guard: Pick<Transition, 'from' | 'expectedAttempts' | 'bumpAttempts' | 'an' | 'ki'>; unrecorded?: number }> {
    if (t.claim?.state === 'writing') await t.claim.done;
    const c = t.claim;
    if (c?.state !== 'deferred') return { guard: { from, expectedAttempts: t.attempts } };
    clearTimeout(c.timer);
    return { guard: { from: ['queued'], expectedAttempts: c.base, bumpAttempts: true, an: this.d.nodeId, ki: c.ki }, unrecorded: c.base };
  }

  #recordRunning(id: string, attempt: number, startedAtMs: number): void {
    this.#writer.apply({ id, from: ['dispatched'], to: 'running', expectedAttempts: attempt, startedAt: new Date(startedAtMs) })
      .catch((err: Error) => this.d.log.debug({ taskId: id, err: err.message }, 'running state not recorded'));
  }

  #sendAssignments(t: HeldTask): void {
    const trace = currentTraceparent() ?? t.trace;
    for (const [ki, run] of t.runs) {
      this.#assigns.add(ki, { task: t.spec, attempt: t.attempts, gpus: run.gpus, ...(trace ? { trace } : {}) })
        .catch((err: Error) => this.#replicaLost(t, ki, { code: 'KI_UNREACHABLE', message: `assignment to ${ki} failed: ${err.message}`, retryable: true }));
    }
  }

  #releaseRuns(t: HeldTask): void {
    for (const [ki, run] of t.runs) this.#pool.release(ki, run.reservation);
    t.runs.clear();
  }

  /** Lets go of a task without writing anything (someone else owns its state). */
  #drop(t: HeldTask): void {
    t.delivery?.ack();
    t.delivery = undefined;
    this.#releaseRuns(t);
    this.#held.delete(t.spec.id);
    this.#updateInFlight();
    this.#pump();
  }

  #updateInFlight(): void {
    this.d.metrics.tasksInFlight.set(this.#held.size - this.#waiting.size);
  }

  // ---- reports from Kis ---------------------------------------------------------------------

  /**
   * A Ki reports only for itself: the Ki a payload names must be the verified sender, checked
   * before the ack so that a refusal is dead-lettered and counted (reason `sender`). Otherwise one
   * Ki could finish any task with any result, or outvote honest replicas alone.
   */
  #onInbox({ msg, delivery }: Received): void {
    if (msg.type === 'task.started' || msg.type === 'task.result') requireSender(msg, (msg.payload as MessageOf<'task.started' | 'task.result'>).ki, 'ki');
    delivery.ack();
    switch (msg.type) {
      case 'task.started': {
        const p = msg.payload as MessageOf<'task.started'>;
        const t = this.#current(p.taskId, p.attempt, p.ki);
        if (!t) return;
        t.runs.get(p.ki)!.startedAtMs = p.startedAtMs;
        if (t.firstStartedAtMs !== undefined) return;
        t.firstStartedAtMs = p.startedAtMs;
        // An unrecorded dispatch is recorded as running straight away (or once its record is stored).
        if (!t.claim) this.#recordRunning(p.taskId, p.attempt, p.startedAtMs);
        return;
      }
      case 'task.progress': {
        const p = msg.payload as MessageOf<'task.progress'>;
        // Progress names no Ki: only a Ki that runs the current attempt may report it.
        if (!this.#current(p.taskId, p.attempt, msg.sender)) return;
        this.#progress.submit({ id: p.taskId, attempts: p.attempt, progress: { fraction: p.fraction, ...(p.message ? { message: p.message } : {}), atMs: Date.now() } }).catch(() => undefined);
        return;
      }
      case 'task.result': {
        const { ki, items } = msg.payload as MessageOf<'task.result'>;
        for (const item of items) {
          const p: KiResult = { ...storableReport(item, this.#resultLimits), ki };
          const t = this.#current(p.taskId, p.attempt, ki);
          if (t) void withSpan(SPAN.taskResult, { [ATTR.taskId]: p.taskId, [ATTR.attempt]: p.attempt, [ATTR.kiId]: ki, [ATTR.nodeId]: this.d.nodeId }, () => this.#onResult(t, p), item.trace ?? msg.trace);
          else this.#onLateVote(p); // or a late result of a replaced attempt: it changes nothing
        }
        return;
      }
      default:
        return;
    }
  }

  #current(taskId: string, attempt: number, ki?: string): HeldTask | undefined {
    const t = this.#held.get(taskId);
    return t && t.attempts === attempt && (ki === undefined || t.runs.has(ki)) ? t : undefined;
  }

  async #onResult(t: HeldTask, p: KiResult): Promise<void> {
    if (t.claim?.state === 'writing') {
      await t.claim.done;
      if (this.#current(p.taskId, p.attempt, p.ki) !== t) return;
    }
    const run = t.runs.get(p.ki);
    if (run) this.#pool.release(p.ki, run.reservation);
    t.runs.delete(p.ki);
    const times = { startedAt: new Date(t.firstStartedAtMs ?? p.startedAtMs), finishedAt: new Date(p.finishedAtMs) };
    if (t.tally) return this.#onVote(t, t.tally.record(p.ki, p.ok, p.result ?? null), times);
    if (p.ok) return this.#finish(t, 'succeeded', { result: p.result ?? null, error: null }, ['dispatched', 'running'], times);
    const error = p.error ?? { code: 'UNKNOWN', message: 'attempt failed without an error', retryable: false };
    if (error.retryable && t.attempts < t.spec.maxAttempts) return this.#retryLater(t, error);
    return this.#finish(t, 'failed', { result: null, error }, ['dispatched', 'running'], times);
  }

  async #onVote(t: HeldTask, outcome: ReturnType<VoteTally['outcome']>, times?: { startedAt: Date; finishedAt: Date }): Promise<void> {
    if (outcome.kind === 'pending') return;
    if (outcome.kind === 'agreed' && t.runs.size > 0) {
      // The task is decided, but replicas still out are checked against the agreed answer when
      // they report: that is how a lying Ki is found. Their slots stay reserved until then.
      this.#verifying.set(t.spec.id, { attempt: t.attempts, agreed: canonicalJson(outcome.result), runs: new Map(t.runs) });
      t.runs.clear();
    }
    for (const ki of t.runs.keys()) {
      void this.d.bus.send({ exchange: this.d.names.control, routingKey: this.d.names.rk.cancel(ki) }, 'task.cancel', { v: 1, taskId: t.spec.id, reason: 'vote decided', attempt: t.attempts }).catch(() => undefined);
    }
    this.#releaseRuns(t);
    if (outcome.kind === 'agreed') {
      if (outcome.minority.length > 0) {
        const quarantined = await this.d.reputation.record(outcome.majority, outcome.minority, MINORITY_PENALTY, QUARANTINE_AT).catch(() => []);
        this.d.log.warn({ taskId: t.spec.id, minority: outcome.minority, quarantined }, 'replicas disagreed with the quorum');
        if (quarantined.length) this.#pool.setQuarantined(await this.d.reputation.quarantined().catch(() => new Set(quarantined)));
      } else {
        void this.d.reputation.record(outcome.majority, [], MINORITY_PENALTY, QUARANTINE_AT).catch(() => undefined);
      }
      return this.#finish(t, 'succeeded', { result: outcome.result, error: null }, ['dispatched', 'running'], times);
    }
    return this.#finish(t, 'failed', { result: null, error: { code: 'NO_QUORUM', message: `only ${outcome.best} of ${t.spec.redundancy?.replicas} replicas agreed; ${t.spec.redundancy?.quorum} needed`, retryable: false } }, ['dispatched', 'running'], times);
  }

  /** A replica that answered after its task's vote was decided: agreeing or not moves its reputation. */
  #onLateVote(p: KiResult): void {
    const v = this.#verifying.get(p.taskId);
    const run = v?.runs.get(p.ki);
    if (!v || !run || v.attempt !== p.attempt) return;
    this.#pool.release(p.ki, run.reservation);
    v.runs.delete(p.ki);
    if (v.runs.size === 0) this.#verifying.delete(p.taskId);
    this.#pump();
    const agrees = p.ok && canonicalJson(p.result ?? null) === v.agreed;
    void this.d.reputation.record(agrees ? [p.ki] : [], agrees ? [] : [p.ki], MINORITY_PENALTY, QUARANTINE_AT).then(async (quarantined) => {
      if (!agrees) this.d.log.warn({ taskId: p.taskId, ki: p.ki, quarantined }, 'replica disagreed with the decided result');
      if (quarantined.length) this.#pool.setQuarantined(await this.d.reputation.quarantined());
    }).catch(() => undefined);
  }

  /** A replica's Ki is gone: a redundant task loses that vote; a single one is retried. */
  async #replicaLost(t: HeldTask, ki: string, error: TaskErrorData): Promise<void> {
    if (t.claim?.state === 'writing') await t.claim.done;
    const run = t.runs.get(ki);
    if (!run) return;
    this.#pool.release(ki, run.reservation);
    t.runs.delete(ki);
    if (t.tally) return this.#onVote(t, t.tally.forfeit(ki));
    if (t.attempts < t.spec.maxAttempts) return this.#retryLater(t, error);
    return this.#finish(t, 'failed', { result: null, error }, ['dispatched', 'running']);
  }

  /** Back to queued (still held here), then placed again after a jittered backoff. */
  async #retryLater(t: HeldTask, error: TaskErrorData): Promise<void> {
    this.d.metrics.tasksRetried.inc({ reason: error.code });
    this.#releaseRuns(t);
    const { guard, unrecorded } = await this.#guardOf(t, ['dispatched', 'running']);
    // An unrecorded dispatch keeps its pending message unacked until a later dispatch is recorded.
    const applied = await this.#write({ id: t.spec.id, ...guard, to: 'queued', ki: null, outcome: { result: null, error } }, t);
    if (applied === undefined) return;
    if (applied === REFUSED) return this.#finish(t, 'failed', { result: null, error: refusedError(error) }, ['dispatched', 'running']);
    if (!applied) return unrecorded === undefined ? this.#drop(t) : this.#unassign(t, unrecorded);
    t.claim = undefined;
    t.firstStartedAtMs = undefined;
    this.#updateInFlight();
    const delay = backoffMs(t.attempts, this.d.config.an.retryBaseMs, this.d.config.an.retryMaxMs, 0.3);
    this.d.log.info({ taskId: t.spec.id, attempts: t.attempts, code: error.code, delayMs: delay }, 'attempt will be retried');
    setTimeout(() => {
      if (this.#held.get(t.spec.id) !== t || this.#draining) return;
      t.sinceMs = Date.now();
      this.#waiting.push(t);
      this.#pump();
    }, delay).unref();
  }

  /** Stores the outcome (retrying while the DB is away), then lets the task go. */
  async #finish(t: HeldTask, status: 'succeeded' | 'failed', outcome: { result: unknown; error: TaskErrorData | null }, from: TaskStatus[], times?: { startedAt: Date; finishedAt: Date }): Promise<void> {
    const finishedAt = times?.finishedAt ?? new Date();
    const { guard, unrecorded } = await this.#guardOf(t, from);
    const written = await this.#write({ id: t.spec.id, ...guard, to: status, leaseMs: null, outcome, finishedAt, ...(times ? { startedAt: times.startedAt } : {}) }, t);
    if (written === undefined) return;
    if (written === REFUSED && outcome.error?.code !== RESULT_UNSTORABLE) {
      return this.#finish(t, 'failed', { result: null, error: refusedError(outcome.error) }, from, times);
    }
    // Refused even as a plain failure: nothing more to try here; the lease sweep takes the task back.
    const applied = written === REFUSED ? null : written;
    if (!applied && unrecorded !== undefined) return this.#unassign(t, unrecorded);
    this.#drop(t);
    if (!applied) return;
    this.d.metrics.tasksFinished.inc({ status });
    this.d.metrics.taskDuration.observe({ status }, Math.max(0, finishedAt.getTime() - t.spec.createdAtMs) / 1000);
    if (status === 'failed') {
      this.d.log.info({ taskId: t.spec.id, attempts: t.attempts, code: outcome.error?.code }, 'task failed');
      // A note goes to the dead-letter queue, where an operator can find and re-drive the task.
      // Not the spec: its payload would fill the broker's disk and outlive DELETE /tasks/{id}.
      const note = { v: 1 as const, taskId: t.spec.id, type: t.spec.type, owner: t.spec.owner, attempts: t.attempts, code: outcome.error?.code ?? 'UNKNOWN', failedAtMs: finishedAt.getTime() };
      this.d.bus.send({ exchange: this.d.names.deadLetterExchange, routingKey: `task.failed.${t.spec.type}` }, 'task.failed', note, { persistent: true })
        .catch(() => undefined);
    }
    this.#events.add({ taskId: t.spec.id, status, owner: t.spec.owner, attempts: t.attempts, finishedAtMs: finishedAt.getTime() });
  }

  /**
   * Writes a transition, retrying while the DB is away; undefined when the task was taken back
   * meanwhile. A data error (SQLSTATE 22/23/54: the store refuses a value of this row) is never an
   * outage: retrying it would wedge the task, and its lease would keep it here, for good. It
   * resolves {@link REFUSED} and the caller fails the task instead.
   */
  async #write(transition: Transition, t: HeldTask): Promise<AppliedTransition | null | undefined | typeof REFUSED> {
    for (;;) {
      try {
        return await this.#writer.apply(transition);
      } catch (err) {
        this.d.metrics.dbErrors.inc();
        if (isDataError(err)) {
          this.d.log.error({ taskId: t.spec.id, to: transition.to, sqlstate: (err as { code?: string }).code, err: (err as Error).message }, 'the store refused this state of the task; it fails instead');
          return REFUSED;
        }
        this.d.log.warn({ taskId: t.spec.id, err: (err as Error).message }, 'state not recorded; retrying');
        await sleep(DB_RETRY_MS);
        if (this.#held.get(t.spec.id) !== t) return undefined;
      }
    }
  }

  async #renewLeases(): Promise<void> {
    const ids = [...this.#held.values()].filter((t) => t.runs.size > 0 || t.delivery === undefined).map((t) => t.spec.id);
    if (ids.length === 0) return;
    await this.d.repo.renewLeases(this.d.nodeId, ids, this.d.config.an.leaseMs);
  }

  // ---- shutdown -----------------------------------------------------------------------------

  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  /**
   * Drain: stop taking tasks, let running ones finish within the grace period, then hand the rest
   * back (cancel on the Ki, state back to queued, republished) for another An.
   */
  async #stop(): Promise<void> {
    this.#draining = true;
    for (const b of this.#bands) await b.cancel();
    for (const t of this.#waiting.takeWhere(() => true)) {
      if (t.delivery) { t.delivery.requeue(); this.#held.delete(t.spec.id); }
    }
    const deadline = Date.now() + Math.max(0, this.d.config.shutdown.graceMs - 1500);
    while (this.#held.size > 0 && Date.now() < deadline) await sleep(50);
    for (const t of [...this.#held.values()]) {
      this.#held.delete(t.spec.id);
      if (t.claim?.state === 'writing') await t.claim.done;
      const unrecorded = t.claim?.state === 'deferred';
      if (t.claim?.state === 'deferred') clearTimeout(t.claim.timer);
      t.claim = undefined;
      for (const ki of t.runs.keys()) {
        await this.d.bus.send({ exchange: this.d.names.control, routingKey: this.d.names.rk.cancel(ki) }, 'task.cancel', { v: 1, taskId: t.spec.id, reason: 'an shutting down; task handed back', attempt: t.attempts }).catch(() => undefined);
      }
      if (unrecorded) {
        // Nothing was stored for this dispatch: the row is still queued, the pending message goes back.
        t.delivery?.requeue();
        continue;
      }
      const back = await this.#writer.apply({ id: t.spec.id, from: ['dispatched', 'running', 'queued'], to: 'queued', expectedAttempts: t.attempts, an: null, ki: null, leaseMs: null, clearPublished: true }).catch(() => null);
      if (back) {
        await this.#republish({ task: t.spec, attempts: back.attempts }).catch(() => undefined);
      }
    }
    for (const stop of this.#stopTimers) stop();
    await this.#writer.drain();
    await this.#assigns.drain();
    await this.#progress.drain();
    await this.#events.flush();
    await this.#heartbeats.stop();
  }
}
