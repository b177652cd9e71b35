import type { AppConfig } from '../config';
import { Hearing, HeartbeatPublisher, Membership, type Heartbeat, type Member, requireOwnHeartbeat, reportRefusedMembers } from '../cluster';
import { every, type Service } from '../lifecycle';
import { type Logger, type Metrics } from '../observability';
import { type OutputChunks, type TaskEvent, CARRIES, type CarriedBy, type TopologyNames } from '../protocol';
import type { IssueSetup } from '../security';
import type { ScheduleRepository, TaskRepository, TenantRepository, WorkflowRepository } from '../store';
import { leaseRenewalPeriodMs } from '../task';
import type { MessageBus, Received } from '../transport';
import { TaskAdmission } from './admission';
import type { Leadership } from './leadership';
import { WaitingReport } from './waiting-report';
import { Sweeper } from './sweeper';
import { GroupAssigner } from './group-assigner';
import { TaskControl } from './task-control';
import { RejectedPendingWatcher } from './rejected-pending';
import { IdentityIssuer } from './identity-issuer';
import { SilentAnRecovery } from './silent-an-recovery';
import { ScheduleTicker } from './schedule-ticker';
import { WorkflowAdvancer } from './workflow-advancer';
import { WorkflowControl } from './workflow-control';
import { ScheduledRelease } from './scheduled-release';
import { tenantAdmission, TenantScheduling } from './tenant-scheduling';
import { MetricsSeries, SERIES_SAMPLE_MS } from './metrics-series';
import { readSeriesSample } from './series-sources';

export interface PrincipalDeps {
  nodeId: string;
  config: AppConfig;
  bus: MessageBus;
  names: TopologyNames;
  repo: TaskRepository;
  /** Schedules whose ticks this principal runs while it leads. */
  schedules: ScheduleRepository;
  workflows: WorkflowRepository;
  log: Logger;
  metrics: Metrics;
  leadership: Leadership;
  /** Issued node tokens: answer joins (as leader) with tokens signed by this key. */
  identity?: IssueSetup;
  /** Told of each task the leader failed for good (an expired lease with no attempt left), for its dead letter. */
  onTaskFailed?: (taskId: string) => void;
  /** Tenants: weighted-fair admission into the pending queues, caps and GPU-seconds. Without it, none. */
  tenants?: TenantRepository;
}

/**
 * The principal's coordination: admission, the membership view, group assignment, node joins and
 * (as leader) the sweeps and the release of scheduled tasks. Its REST API and dashboard are served
 * by {@link PrincipalRestServer}, which the composition root (src/roles/principal-role.ts) builds
 * on top of it.
 */
export class PrincipalNode implements Service {
  readonly name = 'principal';
  readonly admission: TaskAdmission;
  readonly membership: Membership;
  /** Whether this principal hears the cluster: a leader that does not steps down. */
  readonly hearing: Hearing;
  /** Cancel and reprioritise, for the REST routes. */
  readonly control: TaskControl;
  /** Submit, read and cancel workflows, for the REST routes. */
  readonly workflows: WorkflowControl;
  /** Tenant shares, caps and GPU-seconds (when the principal was given a tenant store). */
  readonly tenancy?: TenantScheduling;
  /** The last 15 minutes in buckets, for the dashboard's charts (`GET /metrics/series`). */
  readonly series = new MetricsSeries();
  readonly #sweeper: Sweeper;
  readonly #advancer: WorkflowAdvancer;
  readonly #heartbeats: HeartbeatPublisher;
  readonly #assigner: GroupAssigner;
  readonly #issuer?: IdentityIssuer;
  readonly #rejectedPending: RejectedPendingWatcher;
  readonly #silentAns: SilentAnRecovery;
  readonly #scheduleTicker: ScheduleTicker;
  readonly #release: ScheduledRelease;
  readonly #taskEventListeners: ((event: TaskEvent) => void)[] = [];
  readonly #chunkListeners: ((chunks: OutputChunks) => void)[] = [];
  #stopTimers: (() => void)[] = [];
  #leaving = false;
  #starting?: Promise<void>;
  #stopping?: Promise<void>;
  readonly #startedAtMs = Date.now();

  constructor(private readonly d: PrincipalDeps) {
    const p = d.config.principal;
    const tenants = d.tenants ? tenantAdmission(d.tenants, d.config, () => this.#kiSlots()) : undefined;
    this.admission = new TaskAdmission({ ...d, ...(tenants ? { tenancy: tenants } : {}) });
    if (tenants) this.tenancy = new TenantScheduling({ ...tenants, config: d.config, repo: d.repo, admission: this.admission, leadership: d.leadership, metrics: d.metrics, log: d.log.child({ component: 'tenants' }) });
    this.hearing = new Hearing({ self: { role: 'principal', id: d.nodeId, startedAtMs: this.#startedAtMs }, cluster: d.config.cluster });
    this.membership = new Membership(d.config.cluster, Date.now, this.hearing);
    reportRefusedMembers(this.membership, { log: d.log, counter: d.metrics.membershipRefused, maxMembers: d.config.cluster.maxMembers });
    this.control = new TaskControl({ ...d, map: this.admission.map });
    this.workflows = new WorkflowControl({
      workflows: d.workflows, repo: d.repo, admission: this.admission, control: this.control, metrics: d.metrics, log: d.log, maxNodes: d.config.workflows.maxNodes,
    });
    this.#advancer = new WorkflowAdvancer({
      workflows: d.workflows, admission: this.admission, leadership: d.leadership, metrics: d.metrics, log: d.log.child({ component: 'workflows' }), maxFanOut: d.config.workflows.maxFanOut,
      cancelTasks: async (ids, reason) => { for (const t of await d.repo.getMany(ids)) await this.control.cancel(t, reason); },
    });
    this.#sweeper = new Sweeper({ repo: d.repo, admission: this.admission, metrics: d.metrics, log: d.log, unpublishedGraceMs: p.unpublishedGraceMs, selfId: d.nodeId, ...(d.onTaskFailed ? { onFailed: d.onTaskFailed } : {}) });
    this.#release = new ScheduledRelease({ repo: d.repo, admission: this.admission, metrics: d.metrics, log: d.log });
    const isSilent = (an: string) => { const m = this.membership.get('an', an); return !m || m.status === 'dead'; };
    this.#silentAns = new SilentAnRecovery({
      repo: d.repo, sweeper: this.#sweeper, leadership: d.leadership, isSilent, log: d.log,
      // One renewal period and a half: an An that still renews has done so by then.
      checkAfterMs: Math.ceil(leaseRenewalPeriodMs(d.config.an.leaseMs) * 1.5),
    });
    this.#scheduleTicker = new ScheduleTicker({
      schedules: d.schedules, admission: this.admission, metrics: d.metrics, log: d.log.child({ component: 'schedules' }),
      duePerPass: d.config.schedules.duePerPass, failoverGraceMs: d.config.schedules.failoverGraceMs,
    });
    this.#assigner = new GroupAssigner({
      membership: this.membership, bus: d.bus, names: d.names, leadership: d.leadership, log: d.log, pendingMs: p.groupAssignPendingMs, maxMovesPerRound: p.groupMaxMovesPerRound,
    });
    this.#rejectedPending = new RejectedPendingWatcher({ transport: d.bus.transport, names: d.names, repo: d.repo, log: d.log, retryAfterDbErrorMs: p.deadPendingRetryMs });
    this.#heartbeats = new HeartbeatPublisher({ bus: d.bus, names: d.names, periodMs: d.config.cluster.heartbeatMs, log: d.log, describe: () => this.describe() });
    if (d.identity) {
      this.#issuer = new IdentityIssuer({
        bus: d.bus, names: d.names, leadership: d.leadership, membership: this.membership, issue: d.identity, log: d.log.child({ component: 'identity' }),
        groupOf: (role, id) => (role === 'ki' ? this.#assigner.assignedGroup(id) : undefined) ?? (this.membership.get(role, id)?.heartbeat.group || undefined),
        answerFromMs: this.#startedAtMs + d.config.cluster.deadAfterMs, replyExpirationMs: p.joinReplyExpirationMs,
      });
    }
  }

  describe(): Heartbeat {
    const leader = this.d.leadership.leader();
    return {
      v: 1, id: this.d.nodeId, role: 'principal', group: '', status: this.#leaving ? 'leaving' : 'alive', startedAtMs: this.#startedAtMs,
      version: this.d.config.version, load: this.admission.map.size / Math.max(1, this.d.config.principal.maxAdmitted),
      slots: { total: 0, busy: 0 }, gpus: [], types: [], labels: [], leader: leader?.id === this.d.nodeId, term: this.d.leadership.term,
    };
  }

  /** Slots of the Kis alive now (the automatic publish window is a multiple of them). */
  #kiSlots(): number {
    return this.membership.byRole('ki').filter((m) => m.status === 'alive').reduce((n, m) => n + m.heartbeat.slots.total, 0);
  }

  /** Calls `listener` with each finished task that an An reports (the dashboard's live feed listens). */
  onTaskEvent(listener: (event: TaskEvent) => void): void {
    this.#taskEventListeners.push(listener);
  }

  /** Calls `listener` with the output chunks of running tasks that their Ans relay (the streams listen). */
  onTaskChunk(listener: (chunks: OutputChunks) => void): void {
    this.#chunkListeners.push(listener);
  }

  /**
   * From now on heartbeats say `leaving`. Called before the REST server closes, so the other nodes
   * hear of the shutdown while in-flight requests still finish.
   */
  markLeaving(): void {
    this.#leaving = true;
  }

  start(): Promise<void> {
    return (this.#starting ??= this.#start());
  }

  async #start(): Promise<void> {
    const { bus, names, nodeId, log, config } = this.d;
    const p = config.principal;
    this.membership.on('change', (m, prev) => {
      if (m.status !== 'alive' || prev) log.info({ member: m.id, role: m.role, status: m.status, prev }, 'member status');
      this.#updateMemberMetrics();
      if (m.role === 'an') this.#onAnStatus(m);
    });
    this.membership.on('removed', () => this.#updateMemberMetrics());
    this.membership.on('paused', (sinceMs) => log.warn({ since: new Date(sinceMs).toISOString() }, 'this principal does not hear the cluster (broker connection down or own heartbeat not back): nobody is judged meanwhile, and it does not lead'));
    this.membership.on('resumed', (deafForMs) => log.info({ deafForMs }, 'this principal hears the cluster again; the members\' silence meanwhile is not held against them'));
    bus.transport.onStatus((s) => this.hearing.onTransportStatus(s));
    await bus.subscribe(
      { name: `${names.control}.principal.${nodeId}.${process.pid}`, kind: 'transient', bindings: [
        { exchange: names.control, pattern: 'heartbeat.#' }, { exchange: names.control, pattern: 'event.task.*' },
        ...(this.#issuer ? [{ exchange: names.control, pattern: 'join.#' }] : []),
      ] },
      512,
      // Joins only where this principal issues identities.
      CARRIES.principalControl.filter((t) => t !== 'node.join' || this.#issuer !== undefined),
      (r) => this.#onControl(r),
    );
    const onError = (what: string) => (err: unknown) => log.warn({ err: (err as Error).message }, `${what} failed`);
    this.#stopTimers.push(every(config.cluster.heartbeatMs, async () => {
      this.membership.tick();
      await this.#assigner.assign();
    }, onError('membership tick')));
    this.#stopTimers.push(every(p.sweepIntervalMs, async () => {
      const fence = this.d.leadership.fence();
      if (!fence) return;
      await this.#sweeper.republishUnpublished();
      await this.#sweeper.requeueExpiredLeases(fence);
    }, onError('sweep')));
    // Leader only, fenced by its term: a deposed leader's claim does not apply.
    this.#stopTimers.push(every(config.schedules.tickMs, async () => {
      const fence = this.d.leadership.fence();
      if (fence) await this.#scheduleTicker.runDue(fence);
    }, onError('schedule ticks')));
    this.#stopTimers.push(every(config.schedules.statsIntervalMs, async () => {
      if (this.d.leadership.isLeader()) await this.#scheduleTicker.reportCounts();
      else for (const state of ['active', 'paused']) this.d.metrics.schedules.set({ state }, 0);
    }, onError('schedule counts')));
    this.#stopTimers.push(every(config.workflows.reconcileIntervalMs, () => this.#advancer.reconcile(), onError('workflow reconcile')));
    // Apart from the sweep: a due task must start within about a second, a sweep may take longer.
    this.#stopTimers.push(every(p.releaseIntervalMs, async () => {
      const fence = this.d.leadership.fence();
      if (fence) await this.#release.releaseDue(fence);
    }, onError('release of scheduled tasks')));
    this.#stopTimers.push(every(p.queueDepthIntervalMs, () => this.#release.reportBacklog(this.d.leadership.isLeader()), onError('scheduled backlog')));
    const waiting = new WaitingReport({ read: (limit) => this.d.repo.waitingTasks(limit), metrics: this.d.metrics });
    this.#stopTimers.push(every(p.queueDepthIntervalMs, () => waiting.report(this.d.leadership.isLeader()), onError('waiting tasks')));
    if (this.tenancy) this.#stopTimers.push(this.tenancy.start(onError));
    this.#stopTimers.push(every(p.publishMarkIntervalMs, () => this.admission.markConfirmed(), onError('publish marks')));
    this.#stopTimers.push(every(p.admittedReconcileAfterMs / 2, () => this.#sweeper.reconcileAdmitted(p.admittedReconcileAfterMs), onError('admission reconcile')));
    this.#stopTimers.push(every(p.queueDepthIntervalMs, () => this.#reportQueueDepths(), onError('queue depth')));
    const seriesSample = () => readSeriesSample({ metrics: this.d.metrics, membership: this.membership });
    this.series.begin(await seriesSample());
    this.#stopTimers.push(every(SERIES_SAMPLE_MS, async () => this.series.observe(await seriesSample()), onError('chart series sample')));
    this.#stopTimers.push(every(this.series.bucketMs, async () => {
      const endMs = Date.now();
      this.series.close(endMs - this.series.bucketMs, await seriesSample());
    }, onError('chart series')));
    this.hearing.start();
    this.#heartbeats.start();
    await this.#rejectedPending.start();
  }

  /**
   * An An that left hands its tasks back: the leader requeues the rest at once. One that fell
   * silent is recovered once its leases show it stopped too ({@link SilentAnRecovery}).
   */
  #onAnStatus(m: Member): void {
    const fence = this.d.leadership.fence();
    if (!fence) return;
    const failed = (err: Error) => this.d.log.warn({ an: m.id, err: err.message }, 'requeue of a dead An failed; the lease sweep will do it');
    if (m.status === 'left') this.#sweeper.requeueOfAn(m.id, fence).catch(failed);
    else if (m.status === 'dead') this.#silentAns.onSilent(m.id).catch(failed);
  }

  #onControl({ msg, delivery }: Received<CarriedBy<'principalControl'>>): void {
    // Before the ack: a refused join, or a heartbeat for another node, throws, and the bus
    // dead-letters and counts it.
    switch (msg.type) {
      case 'node.join':
        this.#issuer?.handle(msg);
        delivery.ack();
        return;
      case 'node.heartbeat': {
        const hb = requireOwnHeartbeat(msg);
        delivery.ack();
        this.hearing.echo(hb);
        this.membership.observe(hb);
        return;
      }
      case 'task.chunk':
        delivery.ack();
        for (const item of msg.payload.items) for (const listener of this.#chunkListeners) listener(item);
        return;
      case 'task.event':
        delivery.ack();
        for (const e of msg.payload.events) {
          const admitted = this.admission.map.release(e.taskId);
          this.series.taskFinished(e.status, admitted ? e.finishedAtMs - admitted.createdAtMs : undefined);
          this.#advancer.onTaskFinished(e.taskId);
          this.tenancy?.onFinished(e.taskId);
          for (const listener of this.#taskEventListeners) listener(e);
        }
        return;
    }
  }


  async #reportQueueDepths(): Promise<void> {
    const { bus, names, metrics } = this.d;
    let total = 0;
    for (const q of names.pendingBands) {
      const n = await bus.transport.queueDepth(q);
      total += n;
      metrics.queueDepth.set({ queue: q.slice(names.pending.length + 1) }, n);
    }
    metrics.queueDepth.set({ queue: 'pending' }, total);
  }

  #updateMemberMetrics(): void {
    this.d.metrics.clusterNodes.reset();
    for (const m of this.membership.list()) this.d.metrics.clusterNodes.inc({ role: m.role, status: m.status });
  }

  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<void> {
    this.#leaving = true;
    for (const stop of this.#stopTimers) stop();
    this.#advancer.stop();
    this.#silentAns.stop();
    await this.admission.drain();
    await this.#heartbeats.stop();
    await this.#rejectedPending.stop();
  }
}
