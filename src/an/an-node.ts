import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from '../config';
import { Hearing, HeartbeatPublisher, type Heartbeat, type Member } from '../cluster';
import { every, type Service } from '../lifecycle';
import { type Logger, type Metrics } from '../observability';
import { type PendingItem, type TopologyNames, CARRIES, taskChunkRoute, taskEventRoute } from '../protocol';
import { type TaskRepository, type ReputationRepository, type NodeControl, type NodeControlRepository, type ModelCatalog, MODEL_CATALOG_TTL_MS } from '../store';
import type { MessageBus } from '../transport';
import { DispatchRecorder } from './dispatch-recorder';
import { EventBatcher } from './event-batcher';
import { HeldTasks } from './held-tasks';
import type { HeldTask } from './in-flight';
import { IntakeWindow } from './intake-window';
import { KiBreaker } from './ki-breaker';
import { KiCommands } from './ki-commands';
import { KiPool } from './ki-pool';
import { KiReports } from './ki-reports';
import { KiTracker } from './ki-tracker';
import { LeaseKeeper } from './lease-keeper';
import { OutcomeHandler } from './outcome-handler';
import { republishPending } from './pending-parts';
import { Placer } from './placer';
import { TaskModels } from './task-models';
import { ReplicaVotes } from './replica-votes';
import { StateWriter } from './state-writer';

export interface AnNodeDeps {
  nodeId: string;
  config: AppConfig;
  bus: MessageBus;
  names: TopologyNames;
  repo: TaskRepository;
  reputation: ReputationRepository;
  /** Cordons, drains and circuit-breaker benches of Kis. */
  controls: NodeControlRepository;
  log: Logger;
  metrics: Metrics;
  /** Issued mode: this process's join instance, carried in heartbeats. */
  instance?: string;
  /** The deployed models, for tasks that name one; without it such tasks wait. */
  models?: ModelCatalog;
}

/**
 * An: takes pending tasks from the priority-band queues into a bounded look-ahead window, places
 * them on the Kis of its group by priority, fairness, resources and policy, and records
 * dispatched → running → outcome with guarded, group-committed writes fenced by the attempt.
 * A pending message is acked once its dispatch is stored; from then on the lease (renewed here)
 * and the leader's requeue of a dead An's tasks protect it.
 *
 * This class only wires its parts and runs the lifecycle: {@link IntakeWindow} (intake),
 * {@link Placer} (placement), {@link DispatchRecorder} (dispatch records), {@link KiReports} and
 * {@link OutcomeHandler} (reports and outcomes), {@link ReplicaVotes} (votes), {@link LeaseKeeper}
 * (leases) and {@link KiTracker} (Kis); they share the held tasks through {@link HeldTasks}.
 */
export class AnNode implements Service {
  readonly name = 'an';
  readonly #pool: KiPool;
  readonly #held: HeldTasks;
  readonly #kis: KiTracker;
  readonly #intake: IntakeWindow;
  readonly #placer: Placer;
  readonly #models?: TaskModels;
  readonly #commands: KiCommands;
  readonly #recorder: DispatchRecorder;
  readonly #votes: ReplicaVotes;
  readonly #outcomes: OutcomeHandler;
  readonly #breaker: KiBreaker;
  readonly #reports: KiReports;
  readonly #leases: LeaseKeeper;
  readonly #writer: StateWriter;
  readonly #heartbeats: HeartbeatPublisher;
  readonly #hearing: Hearing;
  readonly #events: EventBatcher;
  readonly #group: string;
  #stopTimers: (() => void)[] = [];
  #draining = false;
  /** An operator cordoned or drained this An: it takes nothing more from the pending queues. */
  #heldOut: NodeControl['state'] = 'active';
  #starting?: Promise<void>;
  #stopping?: Promise<void>;
  readonly #startedAtMs = Date.now();

  constructor(private readonly d: AnNodeDeps) {
    const { config, bus, names, nodeId, repo, log, metrics } = d;
    this.#group = config.an.group || nodeId;
    const isDraining = () => this.#draining;
    const wake = () => this.#placer.pump();
    const finish: OutcomeHandler['finish'] = (...args) => this.#outcomes.finish(...args);
    const republish = (item: PendingItem) => republishPending(bus, names, item);
    this.#pool = new KiPool(config.an.policy);
    this.#held = new HeldTasks({ pool: this.#pool, metrics, wake, retake: (next) => this.#intake.retake(next) });
    this.#writer = new StateWriter(repo, config.an.writeBatchMax, (n) => metrics.batchItems.observe({ batch: 'state' }, n));
    this.#events = new EventBatcher((events) => bus.send(taskEventRoute(names, 'finished'), 'task.event', { v: 1, events }));
    this.#hearing = new Hearing({ self: { role: 'an', id: nodeId, startedAtMs: this.#startedAtMs }, cluster: config.cluster });
    this.#breaker = new KiBreaker({
      failures: config.an.breakerFailures, backoffMs: config.an.breakerBackoffMs, maxBackoffMs: config.an.breakerMaxBackoffMs, controls: d.controls,
      keyOf: (ki) => this.#pool.keyOf(ki), onBenched: () => void this.#kis.refreshQuarantine().catch(() => undefined), log, metrics,
    });
    this.#kis = new KiTracker({
      config, group: this.#group, pool: this.#pool, reputation: d.reputation, controls: d.controls, onControls: (c) => { this.#breaker.noteControls(c); this.#noteOwnControl(c); }, log, metrics, hearing: this.#hearing,
      onCapacityChanged: () => this.#windowChanged(), onKiLost: (m, why) => this.#onKiLost(m, why),
    });
    this.#intake = new IntakeWindow({ bus, names, config, pool: this.#pool, held: this.#held, wake });
    const models = d.models ? new TaskModels(d.models, wake) : undefined;
    this.#models = models;
    this.#commands = new KiCommands({
      nodeId, assignBatchMax: config.an.assignBatchMax, bus, names, metrics, ...(models ? { modelOf: (name: string) => models.descriptor(name) } : {}),
      onAssignFailed: (t, ki, err) => this.#outcomes.replicaLost(t, ki, { code: 'KI_UNREACHABLE', message: `assignment to ${ki} failed: ${err.message}`, retryable: true }),
    });
    this.#recorder = new DispatchRecorder({
      nodeId, leaseMs: config.an.leaseMs, dispatchRecordDelayMs: config.an.dispatchRecordDelayMs, dbRetryMs: config.an.dbRetryMs,
      writer: this.#writer, repo, held: this.#held, commands: this.#commands, metrics, log, finish,
    });
    this.#placer = new Placer({
      held: this.#held, pool: this.#pool, clusterKis: () => this.#kis.clusterKis(), isDraining, onWaitingShrunk: () => this.#intake.applyIfOverfull(),
      dispatch: (t) => this.#recorder.dispatch(t), finish, republish, log, ...(models ? { models } : {}),
    });
    this.#votes = new ReplicaVotes({
      minorityPenalty: config.an.minorityPenalty, quarantineAt: config.an.quarantineAt,
      pool: this.#pool, reputation: d.reputation, held: this.#held, commands: this.#commands, log, metrics, wake,
    });
    this.#outcomes = new OutcomeHandler({
      retry: config.an, dbRetryMs: config.an.dbRetryMs, writer: this.#writer, held: this.#held, pool: this.#pool,
      recorder: this.#recorder, votes: this.#votes, events: this.#events, bus, names, metrics, log, breaker: this.#breaker,
    });
    this.#reports = new KiReports({
      nodeId, repo, metrics, resultLimits: { maxBytes: config.an.maxResultBytes, maxDepth: config.an.maxResultDepth },
      held: this.#held, recorder: this.#recorder, outcomes: this.#outcomes, votes: this.#votes,
      relayOutput: (items) => { bus.send(taskChunkRoute(names), 'task.chunk', { v: 1, items }).catch((err: Error) => log.debug({ tasks: items.length, err: err.message }, 'output not relayed')); },
    });
    this.#leases = new LeaseKeeper({ nodeId, leaseMs: config.an.leaseMs, repo, held: this.#held, deafForMs: () => this.#hearing.deafForMs() });
    this.#heartbeats = new HeartbeatPublisher({ bus, names, periodMs: config.cluster.heartbeatMs, log, describe: () => this.describe(), ...(d.instance ? { instance: d.instance } : {}) });
  }

  get group(): string {
    return this.#group;
  }

  describe(): Heartbeat {
    const inFlight = this.#held.inFlight;
    const stableId = this.d.config.stableId;
    return {
      v: 1, id: this.d.nodeId, role: 'an', group: this.#group, status: this.#draining ? 'leaving' : 'alive', startedAtMs: this.#startedAtMs,
      ...(this.#heldOut === 'draining' ? { state: this.#held.size === 0 ? 'drained' : 'draining' } : {}),
      ...(stableId && stableId !== this.d.nodeId ? { stableId } : {}),
      version: this.d.config.version, load: this.#pool.capacity > 0 ? inFlight / this.#pool.capacity : 0,
      slots: { total: this.#pool.capacity, busy: inFlight }, gpus: [], types: [], labels: [],
    };
  }

  start(): Promise<void> {
    return (this.#starting ??= this.#start());
  }

  async #start(): Promise<void> {
    const { bus, names, nodeId, log } = this.d;
    this.#kis.start();
    bus.transport.onStatus((s) => this.#hearing.onTransportStatus(s));
    // Replicated: with a RabbitMQ cluster, an inbox on one broker node would keep this An from reconnecting while that node is down.
    await bus.subscribe({ name: names.inbox('an', nodeId), kind: 'quorum' }, 2000, CARRIES.anInbox, (r) => this.#reports.onInbox(r));
    // Its own heartbeat too: heard back, it shows this An hears the Kis' heartbeats as well.
    const bindings = [{ exchange: names.control, pattern: 'heartbeat.ki.*' }, { exchange: names.control, pattern: names.rk.heartbeat('an', nodeId) }];
    await bus.subscribe({ name: `${names.control}.an.${nodeId}.${process.pid}`, kind: 'transient', bindings }, 256, CARRIES.anControl, (r) => this.#kis.onHeartbeat(r));
    await this.#intake.subscribe();
    const onError = (err: unknown) => log.warn({ err: (err as Error).message }, 'periodic task failed');
    this.#stopTimers.push(every(this.d.config.cluster.heartbeatMs, () => { this.#kis.tick(); this.#intake.releaseStale(); }, onError));
    this.#stopTimers.push(every(this.#leases.periodMs, () => this.#leases.renew(), onError));
    this.#stopTimers.push(every(this.d.config.an.quarantineRefreshMs, () => this.#kis.refreshQuarantine(), onError));
    if (this.#models) {
      await this.#models.refresh();
      this.#stopTimers.push(every(MODEL_CATALOG_TTL_MS, () => this.#models?.refresh(), onError));
    }
    this.#hearing.start();
    this.#heartbeats.start();
    log.info({ group: this.#group, policy: this.d.config.an.policy }, 'an ready');
  }

  /** The group's capacity changed: a new window, and a placement pass. */
  #windowChanged(): void {
    this.#intake.resize(this.#draining || this.#heldOut !== 'active');
    this.#placer.pump();
  }

  /**
   * Cordoned or drained by an operator (read with the Kis' controls): intake stops (window 0), and
   * what this An holds is still placed and finished; heartbeats say `drained` once it holds nothing.
   */
  #noteOwnControl(controls: readonly NodeControl[]): void {
    const own = controls.find((c) => c.nodeId === (this.d.config.stableId || this.d.nodeId));
    const state = own?.state ?? 'active';
    if (state !== this.#heldOut) this.d.log.info({ state, reason: own?.reason ?? null, by: own?.changedBy ?? null }, state === 'active' ? 'an takes pending tasks again' : 'an takes no more pending tasks');
    this.#heldOut = state;
  }

  /** A Ki died, left or restarted: its late votes will never come, and its replicas are lost. */
  #onKiLost(m: Member, why: string): void {
    this.#votes.forgetKi(m.id);
    // One loss counts once against the Ki, however many attempts it held.
    if (this.#held.all().some((t) => t.runs.has(m.id))) void this.#breaker.record(m.id, 'KI_LOST');
    for (const t of this.#held.all()) {
      if (t.runs.has(m.id)) void this.#outcomes.replicaLost(t, m.id, { code: 'KI_LOST', message: why, retryable: true });
    }
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
    await this.#intake.cancel();
    for (const t of this.#held.waiting.takeWhere(() => true)) {
      if (t.delivery) { t.delivery.requeue(); this.#held.delete(t.spec.id); }
    }
    const deadline = Date.now() + Math.max(0, this.d.config.shutdown.graceMs - 1500);
    while (this.#held.size > 0 && Date.now() < deadline) await sleep(50);
    for (const t of this.#held.all()) await this.#handBack(t);
    for (const stop of this.#stopTimers) stop();
    await this.#writer.drain();
    await this.#commands.drain();
    await this.#reports.drain();
    await this.#events.flush();
    await this.#heartbeats.stop();
  }

  /** A task still here after the grace period goes back for another An. */
  async #handBack(t: HeldTask): Promise<void> {
    this.#held.delete(t.spec.id);
    if (t.claim?.state === 'writing') await t.claim.done;
    const unrecorded = t.claim?.state === 'deferred';
    if (t.claim?.state === 'deferred') clearTimeout(t.claim.timer);
    t.claim = undefined;
    for (const ki of t.runs.keys()) await this.#commands.cancel(ki, t, 'an shutting down; task handed back');
    if (unrecorded) {
      // Nothing was stored for this dispatch: the row is still queued, the pending message goes back.
      t.delivery?.requeue();
      return;
    }
    const back = await this.#writer.apply({ id: t.spec.id, name: 'handBack', expectedAttempts: t.attempts, an: null, ki: null, leaseMs: null, clearPublished: true }).catch(() => null);
    if (back) {
      await republishPending(this.d.bus, this.d.names, { task: t.spec, attempts: back.attempts }).catch(() => undefined);
    }
  }
}
