import type { Server } from 'node:http';
import type { AppConfig } from '../config/schema';
import { HeartbeatPublisher } from '../cluster/heartbeat-publisher';
import { Membership, type Heartbeat } from '../cluster/membership';
import { requireOwnHeartbeat } from '../cluster/heartbeat-binding';
import { reportRefusedMembers } from '../cluster/membership-refusals';
import { createApp, closeServer, listen } from '../http/app';
import type { HealthState } from '../lifecycle/health';
import { every, type Service } from '../lifecycle/service';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { MessageOf } from '../protocol/messages';
import type { TopologyNames } from '../protocol/names';
import type { ClientTokenVerifier, IssueSetup, OpenedMessage } from '../security';
import type { TaskRepository } from '../store/task-repository';
import type { ReputationRepository } from '../store/reputation-repository';
import type { MessageBus, Received } from '../transport';
import { TaskAdmission } from './admission';
import { ClusterView } from './cluster-view';
import type { Leadership } from './leadership';
import { taskRoutes } from './routes';
import { Sweeper } from './sweeper';
import { GroupAssigner } from './group-assigner';
import { TaskControl } from './task-control';
import type Koa from 'koa';
import { chainMiddleware, dashboardMiddleware, DEFAULT_STATIC_DIR } from '../dashboard/serve';
import { RejectedPendingWatcher } from './rejected-pending';
import { LiveFeed } from './live-feed';
import { parseTaskLimits } from '../http/task-limits';
import { IdentityIssuer } from './identity-issuer';

export interface PrincipalDeps {
  nodeId: string;
  config: AppConfig;
  bus: MessageBus;
  names: TopologyNames;
  repo: TaskRepository;
  reputation: ReputationRepository;
  log: Logger;
  metrics: Metrics;
  health: HealthState;
  verifier: ClientTokenVerifier;
  leadership: Leadership;
  /** Extra unauthenticated routes (dashboard). */
  publicRoutes?: Koa.Middleware;
  /** Issued node tokens: answer joins (as leader) with tokens signed by this key. */
  identity?: IssueSetup;
}

const ADMITTED_RECONCILE_AFTER_MS = 60_000;

/** The principal: REST API and admission, membership view, and (as leader) the sweeps. */
export class PrincipalNode implements Service {
  readonly name = 'principal';
  readonly admission: TaskAdmission;
  readonly membership: Membership;
  /** The dashboard's server-sent events (`GET /events`). */
  readonly feed: LiveFeed;
  readonly #control: TaskControl;
  readonly #sweeper: Sweeper;
  readonly #heartbeats: HeartbeatPublisher;
  readonly #assigner: GroupAssigner;
  readonly #issuer?: IdentityIssuer;
  #server?: Server;
  #port = 0;
  #stopTimers: (() => void)[] = [];
  #draining = false;
  readonly #rejectedPending: RejectedPendingWatcher;
  #starting?: Promise<void>;
  #stopping?: Promise<void>;
  readonly #startedAtMs = Date.now();

  constructor(private readonly d: PrincipalDeps) {
    this.admission = new TaskAdmission(d);
    this.membership = new Membership(d.config.cluster);
    reportRefusedMembers(this.membership, { log: d.log, counter: d.metrics.membershipRefused, maxMembers: d.config.cluster.maxMembers });
    this.feed = new LiveFeed({ verifier: d.verifier, log: d.log.child({ component: 'live-feed' }), ticketTtlMs: d.config.http.eventsTicketTtlSec * 1000 });
    this.#control = new TaskControl({ ...d, map: this.admission.map });
    this.#sweeper = new Sweeper({ repo: d.repo, admission: this.admission, metrics: d.metrics, log: d.log, unpublishedGraceMs: d.config.principal.unpublishedGraceMs, selfId: d.nodeId });
    this.#assigner = new GroupAssigner({ membership: this.membership, bus: d.bus, names: d.names, leadership: d.leadership, log: d.log });
    this.#rejectedPending = new RejectedPendingWatcher({ transport: d.bus.transport, names: d.names, repo: d.repo, log: d.log });
    this.#heartbeats = new HeartbeatPublisher({ bus: d.bus, names: d.names, periodMs: d.config.cluster.heartbeatMs, log: d.log, describe: () => this.describe() });
    if (d.identity) {
      this.#issuer = new IdentityIssuer({
        bus: d.bus, names: d.names, leadership: d.leadership, membership: this.membership, issue: d.identity, log: d.log.child({ component: 'identity' }),
        groupOf: (role, id) => (role === 'ki' ? this.#assigner.assignedGroup(id) : undefined) ?? (this.membership.get(role, id)?.heartbeat.group || undefined),
        answerFromMs: this.#startedAtMs + d.config.cluster.deadAfterMs,
      });
    }
  }

  /** The REST port actually bound. */
  get port(): number {
    return this.#port;
  }

  describe(): Heartbeat {
    const leader = this.d.leadership.leader();
    return {
      v: 1, id: this.d.nodeId, role: 'principal', group: '', status: this.#draining ? 'leaving' : 'alive', startedAtMs: this.#startedAtMs,
      version: this.d.config.version, load: this.admission.map.size / Math.max(1, this.d.config.principal.maxAdmitted),
      slots: { total: 0, busy: 0 }, gpus: [], types: [], labels: [], leader: leader?.id === this.d.nodeId, term: this.d.leadership.term,
    };
  }

  start(): Promise<void> {
    return (this.#starting ??= this.#start());
  }

  async #start(): Promise<void> {
    const { bus, names, nodeId, log, config } = this.d;
    this.membership.on('change', (m, prev) => {
      if (m.status !== 'alive' || prev) log.info({ member: m.id, role: m.role, status: m.status, prev }, 'member status');
      this.#updateMemberMetrics();
      // A dead An renews no leases: the leader hands its tasks to the others at once.
      const fence = this.d.leadership.fence();
      if (m.role === 'an' && (m.status === 'dead' || m.status === 'left') && fence) {
        this.#sweeper.requeueOfAn(m.id, fence).catch((err: Error) => log.warn({ an: m.id, err: err.message }, 'requeue of a dead An failed; the lease sweep will do it'));
      }
    });
    this.membership.on('removed', () => this.#updateMemberMetrics());
    await bus.subscribe(
      { name: `${names.control}.principal.${nodeId}.${process.pid}`, kind: 'transient', bindings: [
        { exchange: names.control, pattern: 'heartbeat.#' }, { exchange: names.control, pattern: 'event.task.*' },
        ...(this.#issuer ? [{ exchange: names.control, pattern: 'join.#' }] : []),
      ] },
      512,
      ['node.heartbeat', 'task.event', ...(this.#issuer ? ['node.join' as const] : [])],
      (r) => this.#onControl(r),
    );
    const onError = (what: string) => (err: unknown) => log.warn({ err: (err as Error).message }, `${what} failed`);
    this.#stopTimers.push(every(config.cluster.heartbeatMs, async () => {
      this.membership.tick();
      await this.#assigner.assign();
    }, onError('membership tick')));
    this.#stopTimers.push(every(config.principal.sweepIntervalMs, async () => {
      const fence = this.d.leadership.fence();
      if (!fence) return;
      await this.#sweeper.republishUnpublished();
      await this.#sweeper.requeueExpiredLeases(fence);
    }, onError('sweep')));
    this.#stopTimers.push(every(500, () => this.admission.markConfirmed(), onError('publish marks')));
    this.#stopTimers.push(every(ADMITTED_RECONCILE_AFTER_MS / 2, () => this.#sweeper.reconcileAdmitted(ADMITTED_RECONCILE_AFTER_MS), onError('admission reconcile')));
    this.#stopTimers.push(every(2000, async () => {
      let total = 0;
      for (const q of names.pendingBands) {
        const n = await bus.transport.queueDepth(q);
        total += n;
        this.d.metrics.queueDepth.set({ queue: q.slice(names.pending.length + 1) }, n);
      }
      this.d.metrics.queueDepth.set({ queue: 'pending' }, total);
    }, onError('queue depth')));
    this.#heartbeats.start();
    await this.#rejectedPending.start();

    const cluster = new ClusterView({ membership: this.membership, leadership: this.d.leadership, repo: this.d.repo, reputation: this.d.reputation, transport: bus.transport, names, selfId: nodeId, admitted: () => this.admission.map.size });
    const api = taskRoutes({
      admission: this.admission, control: this.#control, cluster, maxBodyBytes: config.http.maxBodyBytes, maxBatch: config.tasks.maxBatch,
      limits: parseTaskLimits(config.tasks.limits), listMaxBytes: config.tasks.listMaxBytes,
    });
    // The dashboard's live tree: a snapshot at once on every status change, and at most once a
    // second while someone watches (slots and GPU memory change without a status change).
    const nodesNow = () => cluster.nodes();
    this.membership.on('change', () => this.feed.publishNodes(nodesNow));
    this.membership.on('removed', () => this.feed.publishNodes(nodesNow));
    this.#stopTimers.push(every(1000, () => { if (this.feed.clientCount > 0) this.feed.publishNodes(nodesNow); }, onError('live nodes')));
    this.#stopTimers.push(every(5000, async () => { if (this.feed.clientCount > 0) await cluster.refresh(); }, onError('quarantine refresh')));
    const publicRoutes = chainMiddleware(dashboardMiddleware(DEFAULT_STATIC_DIR, { log }), this.feed.middleware(), this.d.publicRoutes);
    const app = createApp({ log, metrics: this.d.metrics, health: this.d.health, verifier: this.d.verifier, api, publicRoutes,
      rateLimit: { ratePerSec: this.d.config.http.rateLimitRps, burst: this.d.config.http.rateLimitBurst },
    });
    const handle = app.callback();
    const { server, port } = await listen((req, res) => { void handle(req, res); }, config.http.port, config.http.host);
    this.#server = server;
    this.#port = port;
    log.info({ port, url: `http://localhost:${port}` }, 'principal REST listening');
  }

  #onControl({ msg, delivery }: Received): void {
    // Before the ack: a refused join, or a heartbeat for another node, throws, and the bus
    // dead-letters and counts it.
    if (msg.type === 'node.join') this.#issuer?.handle(msg as OpenedMessage<'node.join'>);
    const hb = msg.type === 'node.heartbeat' ? requireOwnHeartbeat(msg) : undefined;
    delivery.ack();
    if (hb) {
      this.membership.observe(hb);
    } else if (msg.type === 'task.event') {
      for (const e of (msg.payload as MessageOf<'task.event'>).events) {
        this.admission.map.release(e.taskId);
        this.feed.publishTask({ id: e.taskId, status: e.status, owner: e.owner, attempts: e.attempts, finishedAt: new Date(e.finishedAtMs).toISOString() });
      }
    }
  }

  #updateMemberMetrics(): void {
    this.d.metrics.clusterNodes.reset();
    for (const m of this.membership.list()) this.d.metrics.clusterNodes.inc({ role: m.role, status: m.status });
  }

  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<void> {
    this.#draining = true;
    this.feed.close();
    // Half the grace: in-flight requests finish, then the admission drain still has time.
    if (this.#server) await closeServer(this.#server, this.d.config.shutdown.graceMs / 2);
    for (const stop of this.#stopTimers) stop();
    await this.admission.drain();
    await this.#heartbeats.stop();
    await this.#rejectedPending.stop();
  }
}
