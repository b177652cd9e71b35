import { Counter, Gauge, Histogram, type Registry, collectDefaultMetrics } from 'prom-client';
import { METRIC } from './metric-names';

/** Items per group commit or message: one at low load, up to the configured maximum under load. */
export const BATCH_ITEMS_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];

/** What a batch carries: the `batch` label of {@link METRIC.batchItems}. */
export const BATCH_KINDS = ['insert', 'pending', 'assign', 'result', 'state', 'progress'] as const;

/**
 * The `code` label of {@link METRIC.dbRetries}: the SQLSTATEs the store retries. Kept here as plain
 * text so that observability does not depend on the store.
 */
export const DB_RETRY_CODES = ['40001', '40P01'] as const;

/** Task durations run from milliseconds (no-op tasks) to hours (batch jobs). */
export const TASK_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400];

/**
 * How long after its runAt a scheduled task was queued: about the leader's release interval
 * (250 ms) when all is well, seconds after a leader failover.
 */
export const RELEASE_LATENESS_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** How a vote of redundant replicas ended: the `outcome` label of {@link METRIC.redundantTasks}. */
export const VOTE_OUTCOMES = ['unanimous', 'majority', 'no_quorum'] as const;

/** A replica's answer against the agreed result: the `verdict` label of {@link METRIC.replicaAnswers}. */
export const REPLICA_VERDICTS = ['agreed', 'disagreed'] as const;

/** Why a Ki takes no new work, as `anki_kis_held_out{reason}` labels it. */
export const HELD_OUT_REASONS = ['cordoned', 'draining', 'benched'] as const;

/** How a schedule tick ended: the `outcome` label of {@link METRIC.scheduleRuns} (kept apart from schedule/, which observability does not import). */
export const SCHEDULE_RUN_OUTCOMES = ['created', 'skipped-overlap'] as const;

/** The `state` label of {@link METRIC.schedules}. */
export const SCHEDULE_STATES = ['active', 'paused'] as const;

/** How a workflow ended: the `status` label of {@link METRIC.workflowsFinished}. */
export const WORKFLOW_END_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;

/** Every metric of the platform, registered on one registry. Each role updates the ones it owns. */
export function createMetrics(registry: Registry, role: string) {
  const m = {
    registry,
    nodeUp: new Gauge({ name: METRIC.nodeUp, help: '1 while this node runs', labelNames: ['role'], registers: [registry] }),
    leader: new Gauge({ name: METRIC.leader, help: '1 when this principal is leader, 0 when follower', registers: [registry] }),
    leaderTerm: new Gauge({ name: METRIC.leaderTerm, help: 'Highest leader term seen', registers: [registry] }),
    tasksSubmitted: new Counter({ name: METRIC.tasksSubmitted, help: 'Tasks admitted (201)', registers: [registry] }),
    tasksFinished: new Counter({ name: METRIC.tasksFinished, help: 'Tasks that reached a terminal state', labelNames: ['status'], registers: [registry] }),
    taskDuration: new Histogram({ name: METRIC.taskDuration, help: 'Submit to terminal state', labelNames: ['status'], buckets: TASK_DURATION_BUCKETS, registers: [registry] }),
    tasksInFlight: new Gauge({ name: METRIC.tasksInFlight, help: 'Tasks dispatched or running on this node', registers: [registry] }),
    queueDepth: new Gauge({ name: METRIC.queueDepth, help: 'Messages waiting in the pending queue', labelNames: ['queue'], registers: [registry] }),
    kiSlots: new Gauge({ name: METRIC.kiSlots, help: 'Ki execution slots', labelNames: ['state'], registers: [registry] }),
    messagesRejected: new Counter({ name: METRIC.messagesRejected, help: 'Messages refused (decrypt, token, role, replay, schema, pop, ...)', labelNames: ['reason'], registers: [registry] }),
    dbErrors: new Counter({ name: METRIC.dbErrors, help: 'Failed database operations', registers: [registry] }),
    dbRetries: new Counter({ name: METRIC.dbRetries, help: 'Statements and transactions run again because the database asked (code: SQLSTATE 40001 serialization failure, 40P01 deadlock)', labelNames: ['code'], registers: [registry] }),
    amqpReconnects: new Counter({ name: METRIC.amqpReconnects, help: 'Broker reconnections', registers: [registry] }),
    kiGpuMemoryUsed: new Gauge({ name: METRIC.kiGpuMemoryUsed, help: 'GPU memory in use', labelNames: ['gpu', 'uuid'], registers: [registry] }),
    kiGpuMemoryTotal: new Gauge({ name: METRIC.kiGpuMemoryTotal, help: 'GPU memory', labelNames: ['gpu', 'uuid'], registers: [registry] }),
    kiGpuTasks: new Gauge({ name: METRIC.kiGpuTasks, help: 'Tasks running on each GPU', labelNames: ['gpu', 'uuid'], registers: [registry] }),
    kiGpuHealthy: new Gauge({ name: METRIC.kiGpuHealthy, help: '1 while a GPU is healthy, 0 once the Ki saw it fail (ECC error, lost, nvidia-smi failing): it takes no new work', labelNames: ['gpu', 'uuid'], registers: [registry] }),
    kiGpuWorkers: new Gauge({ name: METRIC.kiGpuWorkers, help: 'Plug-in worker processes of this Ki (one per GPU reservation in use), by state (starting: loading the plug-in; idle; busy: running calls)', labelNames: ['state'], registers: [registry] }),
    kiGpuWorkerRestarts: new Counter({ name: METRIC.kiGpuWorkerRestarts, help: 'Plug-in worker processes that ended unasked, so the next task on their GPUs starts a fresh one, by reason (exited: crashed or called process.exit; killed: a call ignored its cancel or timeout for KI_KILL_GRACE_MS; protocol: it sent what the Ki does not accept)', labelNames: ['reason'], registers: [registry] }),
    clusterNodes: new Gauge({ name: METRIC.clusterNodes, help: 'Members known to this node by role and status', labelNames: ['role', 'status'], registers: [registry] }),
    tasksRetried: new Counter({ name: METRIC.tasksRetried, help: 'Attempts that were retried or requeued', labelNames: ['reason'], registers: [registry] }),
    taskExecutions: new Counter({ name: METRIC.taskExecutions, help: 'Executions started on this Ki', labelNames: ['type'], registers: [registry] }),
    httpRequests: new Counter({ name: METRIC.httpRequests, help: 'REST requests', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    batchItems: new Histogram({ name: METRIC.batchItems, help: 'Tasks per group-committed statement or batched message', labelNames: ['batch'], buckets: BATCH_ITEMS_BUCKETS, registers: [registry] }),
    membershipRefused: new Counter({ name: METRIC.membershipRefused, help: 'Heartbeats of new members refused because the membership list was full (cluster.maxMembers)', registers: [registry] }),
    unhandledRejections: new Counter({ name: METRIC.unhandledRejections, help: 'Promise rejections nothing handled (logged with their stack; the node keeps running)', registers: [registry] }),
    taskQueueWait: new Histogram({ name: METRIC.taskQueueWait, help: 'Submit to the start of the attempt that ended the task (queueing, placement, retries and their backoff)', buckets: TASK_DURATION_BUCKETS, registers: [registry] }),
    taskRunTime: new Histogram({ name: METRIC.taskRunTime, help: 'Start to end of the attempt that ended the task, as its Ki reported them', labelNames: ['status'], buckets: TASK_DURATION_BUCKETS, registers: [registry] }),
    kiGpuUtilization: new Gauge({ name: METRIC.kiGpuUtilization, help: 'GPU utilisation (nvidia-smi utilization.gpu), 0 to 1; absent where the GPU cannot report it', labelNames: ['gpu', 'uuid'], registers: [registry] }),
    kisQuarantined: new Gauge({ name: METRIC.kisQuarantined, help: 'Kis quarantined in the store, as this An last read them (the same list on every An)', registers: [registry] }),
    kiQuarantines: new Counter({ name: METRIC.kiQuarantines, help: 'Kis this An quarantined after they disagreed with the quorum', registers: [registry] }),
    kisHeldOut: new Gauge({ name: METRIC.kisHeldOut, help: 'Nodes that take no new work (Kis, and Ans that take no pending tasks), as this An last read the node controls, by reason (cordoned, draining: an operator; benched: the circuit breaker)', labelNames: ['reason'], registers: [registry] }),
    kiBenches: new Counter({ name: METRIC.kiBenches, help: 'Kis this An benched after timeouts or crashes in a row (AN_BREAKER_FAILURES)', registers: [registry] }),
    redundantTasks: new Counter({ name: METRIC.redundantTasks, help: 'Votes of redundant tasks decided by this An, by outcome', labelNames: ['outcome'], registers: [registry] }),
    replicaAnswers: new Counter({ name: METRIC.replicaAnswers, help: 'Replica answers judged against the agreed result (late ones included), by verdict', labelNames: ['verdict'], registers: [registry] }),
    scheduleRuns: new Counter({ name: METRIC.scheduleRuns, help: 'Schedule ticks this leader ran, by outcome (created: a task; skipped-overlap: the previous run\'s task was not finished)', labelNames: ['outcome'], registers: [registry] }),
    schedules: new Gauge({ name: METRIC.schedules, help: 'Schedules by state, as the leader last counted them (0 on followers)', labelNames: ['state'], registers: [registry] }),
    workflowsFinished: new Counter({ name: METRIC.workflowsFinished, help: 'Workflows that ended, by status (counted by the principal that ended them: the leader, or the one that served the cancel)', labelNames: ['status'], registers: [registry] }),
    workflowsActive: new Gauge({ name: METRIC.workflowsActive, help: 'Running workflows, as the leader last counted them (0 on followers)', registers: [registry] }),
    tasksWaiting: new Gauge({ name: METRIC.tasksWaiting, help: 'Tasks waiting for a Ki (queued, counted in tasks, not messages) per task type, resource (gpu: asks for GPUs; cpu) and model (empty: none), as the leader last counted them; no series elsewhere. For autoscalers', labelNames: ['type', 'resource', 'model'], registers: [registry] }),
    taskOldestWaiting: new Gauge({ name: METRIC.taskOldestWaiting, help: 'Seconds the oldest waiting (queued) task of a type, resource and model has waited since it became due, as the leader last read it; no series elsewhere', labelNames: ['type', 'resource', 'model'], registers: [registry] }),
    tasksScheduled: new Gauge({ name: METRIC.tasksScheduled, help: 'Tasks waiting for their runAt (delayed submissions and retry backoffs), as the leader last counted them; 0 on other principals', registers: [registry] }),
    deadLetters: new Gauge({ name: METRIC.deadLetters, help: 'Dead letters in the store (GET /dead-letters), as the leader last counted them; 0 on other principals', registers: [registry] }),
    taskReleaseLateness: new Histogram({ name: METRIC.taskReleaseLateness, help: 'From a scheduled task\'s runAt to the leader queueing it', buckets: RELEASE_LATENESS_BUCKETS, registers: [registry] }),
    retentionDeleted: new Counter({ name: METRIC.retentionDeleted, help: 'Rows the leader\'s retention deleted, by kind (task: a finished task older than RETENTION_MAX_AGE_MS; idempotency_key: a key that old)', labelNames: ['kind'], registers: [registry] }),
    storeTableRows: new Gauge({ name: METRIC.storeTableRows, help: 'Rows of a store table as the database\'s catalog estimates them (reltuples, refreshed by ANALYZE/autovacuum), read by the leader; absent on CockroachDB', labelNames: ['table'], registers: [registry] }),
    storeTableBytes: new Gauge({ name: METRIC.storeTableBytes, help: 'Bytes of a store table with its indexes and TOAST (pg_total_relation_size), read by the leader; absent on CockroachDB', labelNames: ['table'], registers: [registry] }),
    tenantGpuSeconds: new Counter({ name: METRIC.tenantGpuSeconds, help: 'GPU-seconds accounted to each tenant by this principal while it led: (finish - start) x GPUs of each finished task', labelNames: ['tenant'], registers: [registry] }),
    modelColdStarts: new Counter({ name: METRIC.modelColdStarts, help: 'Models a Ki loaded because a task named one it did not hold (a cold start), by model', labelNames: ['model'], registers: [registry] }),
    modelLoadSeconds: new Histogram({ name: METRIC.modelLoadSeconds, help: 'Time a Ki\'s load hook took, by model and why it loaded (warm: the leader asked; cold: a task asked)', labelNames: ['model', 'reason'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600], registers: [registry] }),
    modelLoadFailures: new Counter({ name: METRIC.modelLoadFailures, help: 'Load hooks that threw, by model', labelNames: ['model'], registers: [registry] }),
    modelReplicas: new Gauge({ name: METRIC.modelReplicas, help: 'Replicas of each deployed model by state (loading, ready, unloading), as the leader hears the Kis report them; 0 on other principals', labelNames: ['model', 'state'], registers: [registry] }),
    modelCommands: new Counter({ name: METRIC.modelCommands, help: 'Loads and unloads the leader asked Kis for (warm replicas and demand scaling)', labelNames: ['action'], registers: [registry] }),
    httpDuration: new Histogram({ name: METRIC.httpDuration, help: 'REST request duration', labelNames: ['method', 'route'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] }),
  };
  // Expose every labelled series from the start so dashboards show 0 rather than "no data".
  m.nodeUp.set({ role }, 1);
  m.leader.set(0);
  m.leaderTerm.set(0);
  for (const s of ['succeeded', 'failed', 'cancelled']) {
    m.tasksFinished.inc({ status: s }, 0);
    m.taskDuration.zero({ status: s });
    m.taskRunTime.zero({ status: s });
  }
  for (const s of WORKFLOW_END_STATUSES) m.workflowsFinished.inc({ status: s }, 0);
  m.workflowsActive.set(0);
  for (const o of VOTE_OUTCOMES) m.redundantTasks.inc({ outcome: o }, 0);
  for (const v of REPLICA_VERDICTS) m.replicaAnswers.inc({ verdict: v }, 0);
  m.kisQuarantined.set(0);
  for (const o of SCHEDULE_RUN_OUTCOMES) m.scheduleRuns.inc({ outcome: o }, 0);
  for (const st of SCHEDULE_STATES) m.schedules.set({ state: st }, 0);
  m.tasksScheduled.set(0);
  for (const k of ['task', 'idempotency_key']) m.retentionDeleted.inc({ kind: k }, 0);
  m.deadLetters.set(0);
  m.kiQuarantines.inc(0);
  m.kiBenches.inc(0);
  for (const r of HELD_OUT_REASONS) m.kisHeldOut.set({ reason: r }, 0);
  for (const b of BATCH_KINDS) m.batchItems.zero({ batch: b });
  m.tasksInFlight.set(0);
  m.queueDepth.set({ queue: 'pending' }, 0);
  for (const s of ['free', 'busy']) m.kiSlots.set({ state: s }, 0);
  for (const r of ['too_large', 'malformed', 'unknown_key', 'decrypt', 'token', 'role', 'sender', 'replay', 'stale', 'schema', 'join', 'pop']) m.messagesRejected.inc({ reason: r }, 0);
  for (const r of ['KI_LOST', 'AN_LOST', 'LEASE_EXPIRED', 'takeover', 'TASK_FAILED']) m.tasksRetried.inc({ reason: r }, 0);
  m.dbErrors.inc(0);
  for (const code of DB_RETRY_CODES) m.dbRetries.inc({ code }, 0);
  m.amqpReconnects.inc(0);
  m.membershipRefused.inc(0);
  m.unhandledRejections.inc(0);
  collectDefaultMetrics({ register: registry });
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
