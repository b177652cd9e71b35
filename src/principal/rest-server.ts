import type { Server } from 'node:http';
import type { Membership } from '../cluster';
import type { AppConfig } from '../config';
import { chainMiddleware, dashboardMiddleware, DEFAULT_STATIC_DIR } from '../dashboard';
import { closeServer, createApp, listen, parseTaskLimits } from '../http';
import { type HealthState, every, type Service } from '../lifecycle';
import { type Logger, type Metrics } from '../observability';
import { type OutputChunks, type TaskEvent, type TopologyNames } from '../protocol';
import type { ClientTokenVerifier } from '../security';
import { type DeadLetterRepository, type ModelCatalog, type ModelRepository, type NodeControlRepository, type ReputationRepository, type ScheduleRepository, type StoreStatsRepository, type TaskRepository } from '../store';
import type { Transport } from '../transport';
import type { TaskAdmission } from './admission';
import { ClusterView } from './cluster-view';
import { TaskCountCache } from './task-counts';
import { principalRateShare } from './rate-share';
import type { Leadership } from './leadership';
import { LiveFeed } from './live-feed';
import { taskRoutes } from './routes';
import { TaskWaiters } from './task-waiters';
import { TaskOutputs } from './task-outputs';
import { addStreamRoute } from './stream-route';
import { addScheduleRoutes } from './schedule-routes';
import type { TaskControl } from './task-control';
import type { WorkflowControl } from './workflow-control';
import type { TaskRetry } from './task-retry';
import { addTaskRetryRoute } from './task-retry-routes';
import { deadLetterRoutes } from './dead-letter-routes';
import { workflowRoutes } from './workflow-routes';
import { nodeRoutes } from './node-routes';
import { tenantRoutes } from './tenant-routes';
import { modelRoutes } from './model-routes';
import { replicasOf } from './model-replicas';
import type { TenantScheduling } from './tenant-scheduling';
import type { MetricsSeries } from './metrics-series';
import { seriesRoutes } from './series-route';

/** The parts of the principal the REST API reads and drives; a {@link PrincipalNode} has them all. */
export interface RestCoordinator {
  readonly admission: TaskAdmission;
  readonly control: TaskControl;
  readonly workflows: WorkflowControl;
  readonly membership: Membership;
  /** Tenant shares and caps, when the principal has them. */
  readonly tenancy?: Pick<TenantScheduling, 'ledger' | 'tenants'> | undefined;
  /** The charts' figures over the last minutes (`GET /metrics/series`). */
  readonly series: Pick<MetricsSeries, 'columnsJson'>;
  onTaskEvent(listener: (event: TaskEvent) => void): void;
  onTaskChunk(listener: (chunks: OutputChunks) => void): void;
}

export interface PrincipalRestDeps {
  nodeId: string;
  config: AppConfig;
  principal: RestCoordinator;
  leadership: Leadership;
  repo: TaskRepository;
  schedules: ScheduleRepository;
  reputation: ReputationRepository;
  /** For the bounded task counts of `GET /cluster`. */
  storeStats: Pick<StoreStatsRepository, 'countTasksUpTo'>;
  /** Cordons, drains and breaker benches; without it /nodes shows none and the node operations are not served. */
  controls?: NodeControlRepository;
  /** For the queue depths of `GET /cluster`. */
  transport: Transport;
  names: TopologyNames;
  log: Logger;
  metrics: Metrics;
  health: HealthState;
  verifier: ClientTokenVerifier;
  /** Where the dashboard's files are. @defaultValue {@link DEFAULT_STATIC_DIR} */
  staticDir?: string;
  /** Runs failed tasks again (`POST /tasks/{id}/retry`); without it the route is absent. */
  retry?: TaskRetry;
  /** The stored dead letters (`/dead-letters`, with `retry`); without them the routes are absent. */
  deadLetters?: DeadLetterRepository;
  /** Deployed models (`/models`, and the check of a task's `model`); without them the routes are absent. */
  models?: { repo: ModelRepository; catalog: ModelCatalog };
}

/**
 * The principal's HTTP side: the REST API, the dashboard's files and its live feed (`/events`),
 * on one Koa server. It reads the cluster through a {@link ClusterView} and pushes membership and
 * task changes to the feed while someone watches.
 */
export class PrincipalRestServer implements Service {
  readonly name = 'principal-rest';
  /** The dashboard's server-sent events (`GET /events`). */
  readonly feed: LiveFeed;
  readonly cluster: ClusterView;
  /** Requests waiting for their task to end, woken by task events. */
  readonly waiters: TaskWaiters;
  /** Streamed output of running tasks, for `GET /tasks/{id}/stream`. */
  readonly outputs: TaskOutputs;
  #closeStreams?: () => void;
  #server?: Server;
  #port = 0;
  readonly #stopTimers: (() => void)[] = [];
  #starting?: Promise<void>;
  #stopping?: Promise<void>;

  constructor(private readonly d: PrincipalRestDeps) {
    const { config, principal } = d;
    this.feed = new LiveFeed({
      verifier: d.verifier, log: d.log.child({ component: 'live-feed' }), ticketTtlMs: config.http.eventsTicketTtlSec * 1000, nodesIntervalMs: config.principal.liveNodesIntervalMs,
    });
    this.cluster = new ClusterView({
      membership: principal.membership, leadership: d.leadership, reputation: d.reputation, transport: d.transport, names: d.names, selfId: d.nodeId,
      admitted: () => principal.admission.map.size,
      taskCounts: new TaskCountCache({ stats: d.storeStats, cap: config.storeStats.countCap, ttlMs: config.storeStats.countTtlMs }),
      // Drained: empty in a heartbeat sent after every An read the drain (one refresh) and one beat more.
      ...(d.controls ? { controls: { repo: d.controls, settleMs: config.an.quarantineRefreshMs + config.cluster.heartbeatMs } } : {}),
    });
    this.waiters = new TaskWaiters(config.principal.maxWaiters);
    this.outputs = new TaskOutputs({ maxTasks: config.principal.streamMaxTasks, maxCharsPerTask: config.principal.streamMaxChars, keepAfterEndMs: config.principal.streamKeepMs });
  }

  /** The port actually bound (0 before start). */
  get port(): number {
    return this.#port;
  }

  start(): Promise<void> {
    return (this.#starting ??= this.#start());
  }

  async #start(): Promise<void> {
    const { config, log, principal } = this.d;
    this.#feedChanges();
    const limits = parseTaskLimits(config.tasks.limits);
    const api = taskRoutes({
      admission: principal.admission, control: principal.control, cluster: this.cluster, maxBodyBytes: config.http.maxBodyBytes, maxBatch: config.tasks.maxBatch,
      limits, listMaxBytes: config.tasks.listMaxBytes, maxDelayMs: config.tasks.maxDelayMs, waiters: this.waiters, maxWaitSec: config.principal.maxWaitSec,
      ...(principal.tenancy ? { tenants: principal.tenancy.ledger } : {}),
      ...(this.d.models ? { models: this.d.models.catalog } : {}),
    });
    this.#closeStreams = addStreamRoute(api, { control: principal.control, outputs: this.outputs, maxStreams: config.principal.maxStreams }).closeAll;
    if (this.d.retry) addTaskRetryRoute(api, { retry: this.d.retry, getTask: (id) => principal.control.get(id) });
    if (this.d.retry && this.d.deadLetters) api.use(deadLetterRoutes({ store: this.d.deadLetters, retry: this.d.retry, getTask: (id) => principal.control.get(id) }).routes());
    if (principal.tenancy) api.use(tenantRoutes({ ledger: principal.tenancy.ledger, tenants: principal.tenancy.tenants, maxBodyBytes: config.http.maxBodyBytes }).routes());
    if (this.d.models) api.use(modelRoutes({ models: this.d.models.repo, catalog: this.d.models.catalog, replicas: () => replicasOf(principal.membership.list()), maxBodyBytes: config.http.maxBodyBytes }).routes());
    addScheduleRoutes(api, { schedules: this.d.schedules, limits, maxBodyBytes: config.schedules.maxBodyBytes, maxPerOwner: config.schedules.maxPerOwner });
    if (this.d.controls) api.use(nodeRoutes({ cluster: this.cluster, membership: principal.membership, controls: this.d.controls }).routes());
    api.use(seriesRoutes(principal.series).routes());
    api.use(workflowRoutes({ workflows: principal.workflows, maxBodyBytes: config.http.maxBodyBytes, maxNodes: config.workflows.maxNodes, limits }).routes());
    const publicRoutes = chainMiddleware(dashboardMiddleware(this.d.staticDir ?? DEFAULT_STATIC_DIR, { log, traceUrl: config.http.dashboardTraceUrl }), this.feed.middleware());
    const app = createApp({ log, metrics: this.d.metrics, health: this.d.health, verifier: this.d.verifier, api, publicRoutes,
      // RATE_LIMIT_RPS is the cluster's rate per caller: each principal grants its share of it.
      rateLimit: { ratePerSec: config.http.rateLimitRps, burst: config.http.rateLimitBurst, share: principalRateShare(principal.membership) },
    });
    const handle = app.callback();
    const { server, port } = await listen((req, res) => { void handle(req, res); }, config.http.port, config.http.host);
    this.#server = server;
    this.#port = port;
    log.info({ port, url: `http://localhost:${port}` }, 'principal REST listening');
  }

  /**
   * The dashboard's live tree: a snapshot at once on every status change, and at most once per
   * `liveNodesIntervalMs` while someone watches (slots and GPU memory change without a status
   * change); finished tasks as their events arrive.
   */
  #feedChanges(): void {
    const { principal, config, log } = this.d;
    const nodesNow = () => this.cluster.nodes();
    principal.membership.on('change', () => this.feed.publishNodes(nodesNow));
    principal.membership.on('removed', () => this.feed.publishNodes(nodesNow));
    principal.onTaskEvent((e) => this.waiters.notify(e.taskId));
    principal.onTaskChunk((c) => this.outputs.add(c));
    principal.onTaskEvent((e) => this.outputs.end(e.taskId));
    principal.onTaskEvent((e) => this.feed.publishTask({ id: e.taskId, status: e.status, owner: e.owner, attempts: e.attempts, finishedAt: new Date(e.finishedAtMs).toISOString() }));
    const onError = (what: string) => (err: unknown) => log.warn({ err: (err as Error).message }, `${what} failed`);
    this.#stopTimers.push(every(config.principal.liveNodesIntervalMs, () => { if (this.feed.clientCount > 0) this.feed.publishNodes(nodesNow); }, onError('live nodes')));
    this.#stopTimers.push(every(config.principal.liveQuarantineRefreshMs, async () => { if (this.feed.clientCount > 0) await this.cluster.refresh(); }, onError('quarantine refresh')));
  }

  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<void> {
    // Open streams first: the server's close waits for every open response.
    this.feed.close();
    this.waiters.close();
    this.#closeStreams?.();
    // Half the grace: in-flight requests finish, then the admission drain still has time.
    if (this.#server) await closeServer(this.#server, this.d.config.shutdown.graceMs / 2);
    for (const stop of this.#stopTimers) stop();
  }
}
