import { MAX_ITEMS } from '../protocol';
import { amqpUrlList, intBetween, positiveInt } from './formats';


/** Roles a node process can run. */
export const ROLES = ['principal', 'an', 'ki', 'standalone'] as const;
export type Role = (typeof ROLES)[number];

/** Development-only secrets: a node with NODE_ENV=production refuses to start on them. */
export const DEV_JWT_SECRET = 'anki-dev-jwt-secret-change-me-0123456789abcdef';
export const DEV_AES_KEYS = 'dev1:ZGV2LWFlcy1rZXktY2hhbmdlLW1lLTAxMjM0NTY3ODk=';
export const DEV_JOIN_SECRET = 'anki-dev-join-secret-change-me-0123456789';

const nonNegativeInt = 'nat';

/** A convict format that accepts strings matching `re`. */
function matching(re: RegExp, what: string) {
  return (value: unknown) => {
    if (typeof value !== 'string' || !re.test(value)) throw new Error(`must be ${what}`);
  };
}

/** A convict format that accepts exactly the given values (a config file may write a boolean, the environment its text). */
function oneOf(values: readonly unknown[], what: string) {
  return (value: unknown) => {
    if (!values.includes(value)) throw new Error(`must be ${what}`);
  };
}

/** A link template of the tracing UI: empty, or an http(s) URL with `{traceId}` in it. */
const traceUrlTemplate = matching(/^$|^https?:\/\/[^\s"<>]*\{traceId\}[^\s"<>]*$/, 'empty or an http(s) URL containing {traceId}');

/** The one configuration schema. Environment names are part of the contract (DESIGN.md). */
export const configSchema = {
  env: { doc: 'Environment (production refuses default secrets)', format: ['production', 'development', 'test'], default: 'development', env: 'NODE_ENV' },
  nodeId: { doc: 'This node\'s id, as it appears in tasks, /nodes, logs and metrics; derived from role, host and pid when empty', format: String, default: '', env: 'NODE_ID', arg: 'node-id' },
  stableId: { doc: 'This node\'s stable identity: reputation, cordon, drain and breaker benches are kept under it, so they survive a rescheduled pod with a new node id (empty: derived, see KI_STABLE_ID_FROM_HOSTNAME, else the node id)', format: String, default: '', env: 'NODE_STABLE_ID' },
  version: { doc: 'Version advertised in heartbeats', format: String, default: '0.1.0', env: 'ANKI_VERSION' },
  amqp: {
    url: {
      doc: 'RabbitMQ URL (amqp:// or amqps://), or the nodes of one RabbitMQ cluster as comma-separated URLs: a node connects to the first it reaches and, when that connection is lost, to the next; required, except that standalone without it uses the in-process bus',
      format: amqpUrlList, default: '', env: 'AMQP_URL', sensitive: true,
    },
    prefix: { doc: 'Prefix of every exchange and queue name', format: matching(/^[A-Za-z0-9._-]{1,64}$/, '1-64 letters, digits, dot, dash or underscore'), default: 'anki', env: 'AMQP_PREFIX', arg: 'amqp-prefix' },
    heartbeatSec: { doc: 'AMQP heartbeat interval', format: nonNegativeInt, default: 10, env: 'AMQP_HEARTBEAT_SEC' },
    reconnectMaxDelayMs: { doc: 'Cap of the jittered reconnect backoff', format: nonNegativeInt, default: 5000, env: 'AMQP_RECONNECT_MAX_DELAY_MS' },
    connectTimeoutMs: { doc: 'A broker (re)connect whose TCP and AMQP handshake has not finished after this long is abandoned and tried anew; without it a try started while the network was silent waits out the kernel\'s SYN retries (about two minutes) after the network is back. 0: none', format: nonNegativeInt, default: 5000, env: 'AMQP_CONNECT_TIMEOUT_MS' },
    publishTimeoutMs: { doc: 'How long a publish may wait for its confirm before it counts as failed', format: nonNegativeInt, default: 10000, env: 'AMQP_PUBLISH_TIMEOUT_MS' },
    caFile: { doc: 'CA certificate file for amqps://', format: String, default: '', env: 'AMQP_CA_FILE' },
    certFile: { doc: 'Client certificate file for amqps://', format: String, default: '', env: 'AMQP_CERT_FILE' },
    keyFile: { doc: 'Client key file for amqps://', format: String, default: '', env: 'AMQP_KEY_FILE' },
    deadLetterMaxLength: { doc: 'Rejected and failed messages the dead-letter queues keep; beyond it the oldest is dropped', format: nonNegativeInt, default: 100_000, env: 'DEAD_LETTER_MAX_LENGTH' },
    deadLetterMaxBytes: { doc: 'Bytes the dead-letter queues keep; beyond it the oldest is dropped', format: nonNegativeInt, default: 256 * 1024 * 1024, env: 'DEAD_LETTER_MAX_BYTES' },
    startupTimeoutMs: { doc: 'How long a starting node waits for an unreachable broker (every broker of AMQP_URL tried in turn; one log line per round, /readyz 503) before it exits 1', format: nonNegativeInt, default: 300_000, env: 'AMQP_STARTUP_TIMEOUT_MS' },
    quorumGroupSize: {
      doc: 'Replicas of each quorum queue the platform declares (x-quorum-initial-group-size); 0 leaves it to the broker (its quorum_cluster_size, 3 by default). A queue that already exists keeps its replicas (a warning says so); rabbitmq-queues grow/shrink changes them',
      format: nonNegativeInt, default: 0, env: 'AMQP_QUORUM_GROUP_SIZE',
    },
    deadLetterTtlMs: { doc: 'Age after which a dead letter is dropped', format: nonNegativeInt, default: 7 * 24 * 3600 * 1000, env: 'DEAD_LETTER_TTL_MS' },
  },
  db: {
    url: { doc: 'PostgreSQL/CockroachDB URL; required, except that standalone without it uses embedded PGlite in dataDir', format: String, default: '', env: 'DATABASE_URL', sensitive: true },
    poolSize: { doc: 'Connections per node', format: nonNegativeInt, default: 8, env: 'DB_POOL_SIZE' },
    statementTimeoutMs: { doc: 'Per-statement timeout, so a stuck DB turns into an error', format: nonNegativeInt, default: 5000, env: 'DB_STATEMENT_TIMEOUT_MS' },
    connectTimeoutMs: { doc: 'Connection timeout', format: nonNegativeInt, default: 2000, env: 'DB_CONNECT_TIMEOUT_MS' },
    queryTimeoutMs: { doc: 'How long a query waits for the server\'s answer before the client gives up on the connection (a half-open one never answers); 0: DB_STATEMENT_TIMEOUT_MS + 1000, none if that is 0 too', format: nonNegativeInt, default: 0, env: 'DB_QUERY_TIMEOUT_MS' },
    idleInTransactionTimeoutMs: { doc: 'The server ends a session whose transaction sat idle this long (idle_in_transaction_session_timeout), so a node cut off mid-transaction does not keep its row locks for as long as the server believes the dead connection; 0: never', format: nonNegativeInt, default: 10000, env: 'DB_IDLE_IN_TX_TIMEOUT_MS' },
    keepAliveMs: { doc: 'TCP keepalive on database connections, probing after this much silence (then at the kernel\'s interval and count, on Linux 9 probes 75 s apart), so the OS finally drops a connection whose peer vanished and a NAT or firewall keeps an idle one; 0: off. A query on a silent connection is bounded by DB_QUERY_TIMEOUT_MS, not by this', format: nonNegativeInt, default: 10000, env: 'DB_KEEPALIVE_MS' },
    maxTxAttempts: { doc: 'Tries, the first included, of a statement or transaction the database asks to retry (40001 serialization failure, 40P01 deadlock), with jittered backoff from 20 ms doubling to 2 s; then it fails with DB_RETRIES_EXHAUSTED', format: nonNegativeInt, default: 5, env: 'DB_MAX_TX_ATTEMPTS' },
    dataDir: { doc: 'PGlite data folder for standalone without DATABASE_URL', format: String, default: './data', env: 'DATA_DIR' },
    sslCaFile: { doc: 'CA certificate for TLS to the DB', format: String, default: '', env: 'DB_SSL_CA_FILE' },
    startupTimeoutMs: { doc: 'How long a starting node waits for an unreachable database (one log line per try, /readyz 503) before it exits 1', format: nonNegativeInt, default: 300_000, env: 'DB_STARTUP_TIMEOUT_MS' },
    probeIntervalMs: { doc: 'How often a running node pings the database (SELECT 1) for /readyz; 0 turns the ping off', format: nonNegativeInt, default: 2000, env: 'DB_PROBE_INTERVAL_MS' },
    probeTimeoutMs: { doc: 'How long a readiness ping may take before the store counts as unreachable', format: nonNegativeInt, default: 1000, env: 'DB_PROBE_TIMEOUT_MS' },
  },
  security: {
    jwtSecret: { doc: 'HS256 secret (or PEM public key for RS/ES client tokens)', format: String, default: DEV_JWT_SECRET, env: 'JWT_SECRET_KEY', sensitive: true },
    jwtAlgorithms: { doc: 'Accepted client token algorithms', format: Array, default: ['HS256'], env: 'JWT_ALGORITHMS' },
    jwtAudience: { doc: 'Required aud of client tokens (empty: not checked)', format: String, default: '', env: 'JWT_AUDIENCE' },
    jwtIssuer: { doc: 'Required iss of client tokens (empty: not checked)', format: String, default: '', env: 'JWT_ISSUER' },
    jwksUrl: { doc: 'JWK set URL of an identity provider whose RS/PS/ES client tokens are accepted (empty: none)', format: String, default: '', env: 'JWKS_URL' },
    jwksAlgorithms: { doc: 'Algorithms accepted from the JWK set (asymmetric only)', format: Array, default: ['RS256', 'ES256'], env: 'JWKS_ALGORITHMS' },
    jwksCacheTtlSec: { doc: 'How long a fetched JWK set is used before it is fetched again', format: nonNegativeInt, default: 600, env: 'JWKS_CACHE_TTL_SEC' },
    jwksMinRefreshIntervalSec: { doc: 'Least time between two fetches of the JWK set (an unknown kid triggers one)', format: nonNegativeInt, default: 30, env: 'JWKS_MIN_REFRESH_INTERVAL_SEC' },
    jwksAllowHttp: { doc: 'Accept an http:// JWKS_URL (ignored with NODE_ENV=production)', format: Boolean, default: false, env: 'JWKS_ALLOW_HTTP' },
    clientHs256: { doc: 'HS256/384/512 client tokens signed with JWT_SECRET_KEY: on, off, or auto (on, except with NODE_ENV=production and a JWKS_URL, where only the identity provider\'s tokens are accepted)', format: ['auto', 'on', 'off'], default: 'auto', env: 'CLIENT_HS256' },
    clockToleranceSec: { doc: 'Clock skew tolerated on exp/nbf', format: nonNegativeInt, default: 5, env: 'JWT_CLOCK_TOLERANCE_SEC' },
    aesKeys: { doc: 'kid:base64key,... (32-byte keys); the first encrypts, all decrypt', format: String, default: DEV_AES_KEYS, env: 'AES_KEYS', sensitive: true },
    joinSecret: { doc: 'Secret nodes present to join', format: String, default: DEV_JOIN_SECRET, env: 'JOIN_SECRET', sensitive: true },
    nodeTokenTtlSec: { doc: 'Lifetime of a node token; refreshed at half-life', format: nonNegativeInt, default: 3600, env: 'NODE_TOKEN_TTL_SEC' },
    nodeTokenMode: { doc: 'shared: every node signs its own token with a key derived from JWT_SECRET_KEY; issued: the leader principal signs An and Ki tokens with NODE_SIGNING_KEY after a join', format: ['shared', 'issued'], default: 'shared', env: 'NODE_TOKEN_MODE' },
    nodeSigningKey: { doc: 'Private key (PEM text or path) that principals and standalone sign node tokens with in issued mode; EC P-256 (ES256) or RSA (RS256)', format: String, default: '', env: 'NODE_SIGNING_KEY', sensitive: true },
    nodeTokenPublicKeys: { doc: 'Public keys (PEM text or comma-separated paths) a node trusts for node tokens in issued mode; empty: learned from the join reply (principals: their own and the extra keys)', format: String, default: '', env: 'NODE_TOKEN_PUBLIC_KEYS' },
    nodeTokenExtraPublicKeys: { doc: 'Further public keys (PEM text or comma-separated paths) a principal trusts and announces in join replies, for signing-key rotation', format: String, default: '', env: 'NODE_TOKEN_EXTRA_PUBLIC_KEYS' },
    joinSecretAn: { doc: 'Secret an An proves in its join (empty: derived from JOIN_SECRET)', format: String, default: '', env: 'JOIN_SECRET_AN', sensitive: true },
    joinSecretKi: { doc: 'Secret a Ki proves in its join (empty: derived from JOIN_SECRET)', format: String, default: '', env: 'JOIN_SECRET_KI', sensitive: true },
    replayWindowMs: { doc: 'Window in which a message id is remembered and control messages must be fresh', format: nonNegativeInt, default: 60000, env: 'REPLAY_WINDOW_MS' },
    maxMessageBytes: { doc: 'Largest sealed message accepted (checked before decryption)', format: nonNegativeInt, default: 4 * 1024 * 1024, env: 'MAX_MESSAGE_BYTES' },
  },
  http: {
    port: { doc: 'REST port of the principal', format: 'port', default: 3030, env: 'HTTP_PORT', arg: 'port' },
    host: { doc: 'REST bind address', format: String, default: '0.0.0.0', env: 'HTTP_HOST' },
    maxBodyBytes: { doc: 'Largest request body (413 beyond)', format: nonNegativeInt, default: 1024 * 1024, env: 'MAX_BODY_BYTES' },
    rateLimitRps: { doc: 'Sustained REST requests per second per caller (token subject) across the whole cluster: each of N live principals grants 1/N of it; 0 turns limiting off', format: Number, default: 1000, env: 'RATE_LIMIT_RPS' },
    rateLimitBurst: { doc: 'REST requests a caller may make at once after being idle, across the whole cluster (split over the live principals like the rate)', format: nonNegativeInt, default: 2000, env: 'RATE_LIMIT_BURST' },
    eventsTicketTtlSec: { doc: 'Lifetime of a one-use ticket of POST /events/ticket that opens the dashboard\'s event stream (GET /events?ticket=)', format: nonNegativeInt, default: 30, env: 'EVENTS_TICKET_TTL_SEC' },
    dashboardTraceUrl: { doc: 'Link from a task\'s page in the dashboard to its trace in the tracing UI: a URL with {traceId} in it, e.g. http://jaeger:16686/trace/{traceId} (empty: no link)', format: traceUrlTemplate, default: '', env: 'DASHBOARD_TRACE_URL' },
  },
  metrics: {
    port: { doc: 'Port of /metrics, /healthz, /readyz on every node (0: any free port)', format: 'port', default: 9090, env: 'METRICS_PORT' },
    host: { doc: 'Bind address of the metrics server', format: String, default: '0.0.0.0', env: 'METRICS_HOST' },
  },
  log: {
    level: { doc: 'Log level', format: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info', env: 'LOG_LEVEL' },
  },
  otel: {
    enabled: { doc: 'Export traces and logs over OTLP: true, false (off even with an endpoint set), or empty = on exactly when an endpoint is set (OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT or a per-signal OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT)', format: oneOf(['', 'true', 'false', true, false], '"true", "false" or empty'), default: '', env: 'OTEL_ENABLED' },
    endpoint: { doc: 'OTLP collector endpoint for traces and logs; wins over OTEL_EXPORTER_OTLP_ENDPOINT and yields to a per-signal OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT. Empty: not set (with OTEL_ENABLED=true, http://localhost:4317 for gRPC or http://localhost:4318 for OTLP/HTTP)', format: String, default: '', env: 'OTLP_ENDPOINT' },
    protocol: { doc: 'OTLP protocol, grpc or http/protobuf; wins over OTEL_EXPORTER_OTLP_PROTOCOL and yields to OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL. Empty: not set (http/protobuf for an endpoint from the OTEL_EXPORTER_OTLP_* variables, as the OpenTelemetry spec says, else grpc)', format: ['', 'grpc', 'http/protobuf'], default: '', env: 'OTLP_PROTOCOL' },
    sampleRatio: { doc: 'Fraction of traces sampled', format: Number, default: 1, env: 'OTEL_SAMPLE_RATIO' },
  },
  tasks: {
    defaultType: { doc: 'Task type when a submission names none', format: String, default: 'echo', env: 'TASK_DEFAULT_TYPE' },
    defaultPriority: { doc: 'Priority when a submission names none', format: nonNegativeInt, default: 5, env: 'TASK_DEFAULT_PRIORITY' },
    defaultMaxAttempts: { doc: 'Attempts when a submission names none', format: nonNegativeInt, default: 3, env: 'TASK_DEFAULT_MAX_ATTEMPTS' },
    defaultTimeoutMs: { doc: 'Execution timeout when a submission names none', format: nonNegativeInt, default: 600000, env: 'TASK_DEFAULT_TIMEOUT_MS' },
    maxBatch: { doc: 'Largest POST /tasks/batch', format: nonNegativeInt, default: 1000, env: 'TASK_MAX_BATCH' },
    limits: { doc: 'Per client role ceilings of a submission, JSON {"<role>":{"maxPriority","maxReplicas","maxAttempts","maxTimeoutMs","maxPayloadBytes"}}; a role or field left out keeps its default (submitter: 5, 3, 5, 3600000, 262144; admin and operator: the API\'s own bounds)', format: String, default: '', env: 'TASK_LIMITS' },
    listMaxBytes: { doc: 'Bytes of task JSON one GET /tasks page may hold; the page ends early (with nextCursor) beyond', format: nonNegativeInt, default: 4 * 1024 * 1024, env: 'TASK_LIST_MAX_BYTES' },
    maxDelayMs: { doc: 'Horizon of a delayed submission: a runAt (or now + delayMs) later than now + this is refused with 400', format: nonNegativeInt, default: 366 * 24 * 3600 * 1000, env: 'TASK_MAX_DELAY_MS' },
  },
  workflows: {
    maxNodes: { doc: 'Tasks (nodes) one workflow may have; a larger POST /workflows is a 400', format: nonNegativeInt, default: 1000, env: 'WORKFLOW_MAX_NODES' },
    maxFanOut: { doc: 'Elements one mapped workflow node may run; a larger upstream list fails the node, naming the limit', format: nonNegativeInt, default: 10000, env: 'WORKFLOW_MAX_FAN_OUT' },
    reconcileIntervalMs: { doc: 'How often the leader reads every running workflow and advances it (task events advance them at once; this catches a missed event or a leader change)', format: nonNegativeInt, default: 2000, env: 'WORKFLOW_RECONCILE_INTERVAL_MS' },
  },
  principal: {
    maxAdmitted: { doc: 'Tasks this principal may hold admitted and unfinished before it answers 503', format: nonNegativeInt, default: 200000, env: 'PRINCIPAL_MAX_ADMITTED' },
    maxWaitSec: { doc: 'Longest wait for a task to end that a request may ask for (Prefer: wait=N on POST /tasks, ?wait=N on GET /tasks/{id}); longer asks are capped', format: nonNegativeInt, default: 60, env: 'PRINCIPAL_MAX_WAIT_SEC' },
    maxWaiters: { doc: 'Requests that may wait for their task at once on this principal; beyond it a request is answered at once, as without the wait', format: nonNegativeInt, default: 10000, env: 'PRINCIPAL_MAX_WAITERS' },
    maxStreams: { doc: 'Output streams (GET /tasks/{id}/stream) open at once on this principal; beyond it a 503', format: nonNegativeInt, default: 1000, env: 'PRINCIPAL_MAX_STREAMS' },
    streamMaxTasks: { doc: 'Tasks whose streamed output a principal keeps at once for clients that connect late; beyond it the least recently written goes', format: nonNegativeInt, default: 1000, env: 'PRINCIPAL_STREAM_MAX_TASKS' },
    streamMaxChars: { doc: 'Characters of one task\'s streamed output a principal keeps for clients that connect late (live clients get every chunk)', format: nonNegativeInt, default: 1_048_576, env: 'PRINCIPAL_STREAM_MAX_CHARS' },
    streamKeepMs: { doc: 'How long a finished task\'s streamed output stays for a late client; after it, the stream gives only the end with the result', format: nonNegativeInt, default: 60_000, env: 'PRINCIPAL_STREAM_KEEP_MS' },
    maxInFlightWrites: { doc: 'Tasks waiting for their DB insert or their publish confirm before admission answers 503 (a slow DB or a blocked broker must not grow memory)', format: nonNegativeInt, default: 20000, env: 'PRINCIPAL_MAX_IN_FLIGHT_WRITES' },
    sweepIntervalMs: { doc: 'How often the leader republishes unpublished tasks and requeues expired leases', format: nonNegativeInt, default: 2000, env: 'SWEEP_INTERVAL_MS' },
    unpublishedGraceMs: { doc: 'Age after which a queued task without a confirmed publish is republished', format: nonNegativeInt, default: 5000, env: 'UNPUBLISHED_GRACE_MS' },
    leaderLeaseMs: { doc: 'Leader lease in the DB; a leader that cannot renew within it steps down', format: nonNegativeInt, default: 3000, env: 'LEADER_LEASE_MS' },
    electionTickMs: { doc: 'Period of the election ticks each principal publishes', format: nonNegativeInt, default: 500, env: 'ELECTION_TICK_MS' },
    publishMarkIntervalMs: { doc: 'How often admission records the confirmed publishes of still-queued tasks in the store', format: nonNegativeInt, default: 500, env: 'PRINCIPAL_PUBLISH_MARK_INTERVAL_MS' },
    publishMarkAfterMs: { doc: 'Age of a publish confirm before its task is marked published (a task taken sooner needs no mark)', format: nonNegativeInt, default: 1000, env: 'PRINCIPAL_PUBLISH_MARK_AFTER_MS' },
    admittedReconcileAfterMs: { doc: 'Age after which a task still held as admitted in memory is checked against the store and released when finished (a lost task event must not hold admission capacity); checked every half of it', format: nonNegativeInt, default: 60000, env: 'PRINCIPAL_ADMITTED_RECONCILE_AFTER_MS' },
    queueDepthIntervalMs: { doc: 'How often the principal reads the depth of the pending queues for anki_queue_depth (and, as leader, the scheduled backlog for anki_tasks_scheduled and the waiting tasks for anki_tasks_waiting and anki_task_oldest_waiting_seconds)', format: nonNegativeInt, default: 2000, env: 'PRINCIPAL_QUEUE_DEPTH_INTERVAL_MS' },
    releaseIntervalMs: { doc: 'How often the leader looks for scheduled tasks whose runAt has come (delayed submissions, retry backoffs) and queues them: a due task starts within about this much', format: positiveInt, default: 250, env: 'PRINCIPAL_RELEASE_INTERVAL_MS' },
    liveNodesIntervalMs: { doc: 'Least time between two node snapshots of the dashboard live feed, and how often one is offered while someone watches', format: nonNegativeInt, default: 1000, env: 'PRINCIPAL_LIVE_NODES_INTERVAL_MS' },
    liveQuarantineRefreshMs: { doc: 'How often the quarantine list of the cluster view is read from the store while someone watches the live feed', format: nonNegativeInt, default: 5000, env: 'PRINCIPAL_LIVE_QUARANTINE_REFRESH_MS' },
    groupAssignPendingMs: { doc: 'How long a Ki group assignment counts as in effect before the Ki\'s heartbeat confirms it', format: nonNegativeInt, default: 3000, env: 'PRINCIPAL_GROUP_ASSIGN_PENDING_MS' },
    groupMaxMovesPerRound: { doc: 'Idle Kis moved between groups per membership round when rebalancing, so groups change gradually', format: nonNegativeInt, default: 2, env: 'PRINCIPAL_GROUP_MAX_MOVES_PER_ROUND' },
    joinReplyExpirationMs: { doc: 'A join reply (issued node token) nobody consumed within this time is dropped by the broker; the node asks again', format: nonNegativeInt, default: 30000, env: 'PRINCIPAL_JOIN_REPLY_EXPIRATION_MS' },
    deadPendingRetryMs: { doc: 'Wait before a refused pending message is read again after the store failed to mark its tasks unpublished', format: nonNegativeInt, default: 1000, env: 'PRINCIPAL_DEAD_PENDING_RETRY_MS' },
    deadLetterStoreMax: { doc: 'Dead letters the store keeps (GET /dead-letters); beyond it the oldest are dropped. 0: the principals leave the dead letters in RabbitMQ\'s dead-letter queue (GET /dead-letters stays empty)', format: nonNegativeInt, default: 100_000, env: 'DEAD_LETTER_STORE_MAX' },
  },
  tenants: {
    publishWindow: { doc: 'Tasks all tenants together may have in the pending queues and the Ans\' look-ahead (published, not yet started), split by weight among tenants with work; past its share a tenant\'s tasks are stored and held until the fair releaser publishes them. 0: four times the cluster\'s Ki slots, at least 256', format: nonNegativeInt, default: 0, env: 'TENANT_PUBLISH_WINDOW' },
    releaseIntervalMs: { doc: 'How often the leader publishes held tasks in weighted-fair order and accounts GPU-seconds, and how often each principal re-reads tenant settings and counts (task events also wake the releaser)', format: positiveInt, default: 200, env: 'TENANT_RELEASE_INTERVAL_MS' },
    gpuPeriod: { doc: 'Accounting period of GPU-seconds and their budgets (UTC calendar day, week from Monday, or month)', format: ['day', 'week', 'month'], default: 'month', env: 'TENANT_GPU_PERIOD' },
  },
  schedules: {
    tickMs: { doc: 'How often the leader looks for due schedule ticks (a tick runs at most this long after its time, plus the run\'s own write)', format: positiveInt, default: 200, env: 'SCHEDULE_TICK_MS' },
    maxPerOwner: { doc: 'Most schedules one owner may have; creating one more answers 409', format: nonNegativeInt, default: 100, env: 'SCHEDULES_MAX_PER_OWNER' },
    maxBodyBytes: { doc: 'Largest POST /schedules or PATCH /schedules/{id} body, in bytes (the task body included)', format: positiveInt, default: 262144, env: 'SCHEDULE_MAX_BODY_BYTES' },
    failoverGraceMs: { doc: 'A tick at most this late still runs, whatever the catch-up policy: longer than a leader failover, so a failover neither skips nor doubles a tick; older missed ticks follow the policy', format: positiveInt, default: 30000, env: 'SCHEDULE_FAILOVER_GRACE_MS' },
    duePerPass: { doc: 'Most due schedules one pass of the ticker runs (the rest wait for the next pass)', format: positiveInt, default: 500, env: 'SCHEDULE_DUE_PER_PASS' },
    statsIntervalMs: { doc: 'How often the leader counts schedules by state for anki_schedules', format: positiveInt, default: 5000, env: 'SCHEDULE_STATS_INTERVAL_MS' },
  },
  retention: {
    maxAgeMs: { doc: 'Finished tasks (succeeded, failed, cancelled) and idempotency keys older than this are deleted by the leader; 0 keeps them forever. 30 days by default: results stay readable for a month, and the tables stop growing without bound', format: nonNegativeInt, default: 30 * 24 * 3600 * 1000, env: 'RETENTION_MAX_AGE_MS' },
    batch: { doc: 'Most tasks (and, apart, idempotency keys) one retention statement deletes: small batches keep each transaction short and its locks few', format: positiveInt, default: 500, env: 'RETENTION_BATCH' },
    intervalMs: { doc: 'How often the leader runs a retention pass (a pass deletes batches until none is full, or RETENTION_MAX_BATCHES_PER_PASS)', format: positiveInt, default: 60000, env: 'RETENTION_INTERVAL_MS' },
    maxBatchesPerPass: { doc: 'Most batches of tasks one retention pass deletes; a backlog is worked off over the next passes', format: positiveInt, default: 20, env: 'RETENTION_MAX_BATCHES_PER_PASS' },
    exportDir: { doc: 'Folder where each batch is appended as JSON lines (tasks-YYYY-MM-DD.jsonl, one task per line) and flushed to disk before it is deleted; empty: delete without export', format: String, default: '', env: 'RETENTION_EXPORT_DIR' },
  },
  models: {
    reconcileIntervalMs: { doc: 'How often the leader compares each deployed model\'s replicas with its warm range and demand and sends loads and unloads', format: positiveInt, default: 1000, env: 'MODEL_RECONCILE_INTERVAL_MS' },
    demandWindowMs: { doc: 'The window over which the leader measures each model\'s request rate (tasks naming it submitted)', format: positiveInt, default: 30000, env: 'MODEL_DEMAND_WINDOW_MS' },
    backlogHorizonMs: { doc: 'A model\'s waiting tasks count as demand spread over this long (and weigh more once the oldest has waited longer)', format: positiveInt, default: 10000, env: 'MODEL_BACKLOG_HORIZON_MS' },
    lookbackMs: { doc: 'How far back the demand query reads submissions: a task waiting longer is not counted', format: positiveInt, default: 600000, env: 'MODEL_DEMAND_LOOKBACK_MS' },
    minResidencyMs: { doc: 'A replica is not moved to another model before it has been ready this long (no thrashing)', format: nonNegativeInt, default: 30000, env: 'MODEL_MIN_RESIDENCY_MS' },
    tolerancePct: { doc: 'How far (percent of its demand share) a model\'s share of replicas may drift before replicas move between models', format: intBetween(0, 100), default: 20, env: 'MODEL_TOLERANCE_PCT' },
    maxMovesPerRound: { doc: 'Most loads plus unloads the leader sends in one round', format: positiveInt, default: 8, env: 'MODEL_MAX_MOVES_PER_ROUND' },
  },
  storeStats: {
    countCap: { doc: 'Most tasks of one status that /cluster counts; beyond it the count shows this cap and the status is listed in tasksCapped', format: positiveInt, default: 100000, env: 'CLUSTER_TASK_COUNT_CAP' },
    countTtlMs: { doc: 'How long a principal reuses its last task counts for /cluster before counting again', format: nonNegativeInt, default: 5000, env: 'CLUSTER_TASK_COUNT_TTL_MS' },
    tableStatsIntervalMs: { doc: 'How often the leader reads table sizes from the catalog into anki_store_table_rows and anki_store_table_bytes', format: positiveInt, default: 60000, env: 'STORE_TABLE_STATS_INTERVAL_MS' },
  },
  an: {
    group: { doc: 'Group this An schedules (empty: its node id)', format: String, default: '', env: 'AN_GROUP' },
    policy: { doc: 'Ki selection policy', format: ['least-loaded', 'lru'], default: 'least-loaded', env: 'AN_POLICY' },
    leaseMs: { doc: 'Lease of a dispatched task; renewed while it runs', format: nonNegativeInt, default: 15000, env: 'TASK_LEASE_MS' },
    retryBaseMs: { doc: 'First retry backoff after a failed attempt', format: nonNegativeInt, default: 200, env: 'RETRY_BASE_MS' },
    retryMaxMs: { doc: 'Cap of the retry backoff', format: nonNegativeInt, default: 30000, env: 'RETRY_MAX_MS' },
    writeBatchMax: { doc: 'Rows per group-commit statement', format: nonNegativeInt, default: 500, env: 'WRITE_BATCH_MAX' },
    maxResultBytes: { doc: 'Largest result (or error) an An stores, in bytes of JSON; a larger one fails its task with RESULT_UNSTORABLE', format: nonNegativeInt, default: 1024 * 1024, env: 'AN_MAX_RESULT_BYTES' },
    maxResultDepth: { doc: 'Deepest nesting of arrays and objects in a result (or error) an An stores; a deeper one fails its task with RESULT_UNSTORABLE', format: nonNegativeInt, default: 64, env: 'AN_MAX_RESULT_DEPTH' },
    maxWaitMs: { doc: 'A task that waits this long here for a slot goes back to its pending queue, where a less busy An may take it', format: positiveInt, default: 30000, env: 'AN_MAX_WAIT_MS' },
    windowTasksPerSlot: { doc: 'Look-ahead window of tasks taken from the pending queues, per slot of the group (priorities and fairness choose among them; the backlog stays in RabbitMQ)', format: positiveInt, default: 8, env: 'AN_WINDOW_TASKS_PER_SLOT' },
    windowMinTasks: { doc: 'Least look-ahead window, in tasks, while the group has a slot', format: nonNegativeInt, default: 256, env: 'AN_WINDOW_MIN_TASKS' },
    windowMaxTasks: { doc: 'Largest look-ahead window, in tasks', format: positiveInt, default: 2000, env: 'AN_WINDOW_MAX_TASKS' },
    dispatchRecordDelayMs: { doc: 'How long after its assignment the dispatch of a fresh single-replica task is recorded; a task that reports first has its outcome and dispatch written as one row version, and its pending message stays unacked until one of them is stored', format: nonNegativeInt, default: 100, env: 'AN_DISPATCH_RECORD_DELAY_MS' },
    dbRetryMs: { doc: 'Wait before a state write that failed because the DB is away is tried again', format: positiveInt, default: 500, env: 'AN_DB_RETRY_MS' },
    assignBatchMax: { doc: `Most assignments per task.assign message (at most ${MAX_ITEMS}, the protocol's limit)`, format: intBetween(1, MAX_ITEMS), default: 500, env: 'AN_ASSIGN_BATCH_MAX' },
    minorityPenalty: { doc: 'Reputation a Ki loses when it disagrees with the quorum of a redundant task (agreeing gains 1, up to the starting score of 10)', format: nonNegativeInt, default: 5, env: 'AN_MINORITY_PENALTY' },
    quarantineAt: { doc: 'Reputation score at or below which a Ki is quarantined: it takes no new work', format: 'int', default: 0, env: 'AN_QUARANTINE_AT' },
    quarantineRefreshMs: { doc: 'How often the An reads the quarantined Kis from the store (a Ki quarantined by another An is known here within it)', format: positiveInt, default: 2000, env: 'AN_QUARANTINE_REFRESH_MS' },
    breakerFailures: { doc: 'Timeouts or crashes in a row after which a Ki is benched (taken out of placement for a backoff); 0 = no circuit breaker', format: nonNegativeInt, default: 3, env: 'AN_BREAKER_FAILURES' },
    breakerBackoffMs: { doc: 'How long a Ki is benched the first time; each bench before a success doubles it', format: positiveInt, default: 60000, env: 'AN_BREAKER_BACKOFF_MS' },
    breakerMaxBackoffMs: { doc: 'Longest bench of a Ki, however often it was benched', format: positiveInt, default: 600000, env: 'AN_BREAKER_MAX_BACKOFF_MS' },
  },
  ki: {
    slots: { doc: 'Concurrent tasks on this Ki (CPU slots)', format: nonNegativeInt, default: 4, env: 'KI_SLOTS' },
    gpus: { doc: 'auto (nvidia-smi), none, or a JSON list of fake GPUs [{index,uuid,name,memoryMiB,memoryUsedMiB,utilizationPct}]', format: String, default: 'auto', env: 'KI_GPUS' },
    gpuRefreshMs: { doc: 'How often a Ki reads its GPUs\' memory use and utilisation from nvidia-smi again (heartbeats and the anki_ki_gpu_* metrics follow); 0 = only at start-up. Only with KI_GPUS=auto', format: nonNegativeInt, default: 5000, env: 'KI_GPU_REFRESH_MS' },
    slotsPerGpu: { doc: 'Concurrent tasks per GPU', format: nonNegativeInt, default: 1, env: 'KI_SLOTS_PER_GPU' },
    labels: { doc: 'Labels this Ki offers, comma separated', format: Array, default: [], env: 'KI_LABELS' },
    group: { doc: 'Pin this Ki to a group (empty: the leader assigns one)', format: String, default: '', env: 'KI_GROUP' },
    handlers: { doc: 'Path of a JS module exporting { [type]: async (payload, ctx) => result }, and optionally models: { [modelType]: { load(model, ctx), unload(handle, model) } }', format: String, default: '', env: 'KI_HANDLERS' },
    modelSlots: { doc: 'How many deployed models this Ki holds loaded at once (a cold start beyond it unloads the least recently used idle one)', format: nonNegativeInt, default: 1, env: 'KI_MODEL_SLOTS' },
    execAllowlist: { doc: 'JSON object name -> entry the exec executor may run: an absolute path (no env from the task), or { "path": "/abs", "env": ["NAME"], "args": "<regex each arg must fully match>", "maxArgs": n }', format: String, default: '{}', env: 'KI_EXEC_ALLOWLIST' },
    execPath: { doc: 'PATH of exec commands (never inherited from the Ki or set by a task); absolute directories only', format: String, default: '/usr/local/bin:/usr/bin:/bin', env: 'KI_EXEC_PATH' },
    execUser: { doc: 'User exec commands run as: a name or uid[:gid] (empty: the Ki\'s own user, warned about in production); needs root or CAP_SETUID, CAP_SETGID and CAP_KILL', format: String, default: '', env: 'KI_EXEC_USER' },
    demoTypes: { doc: 'Offer the demo task types sleep and cpu (echo and fail are always offered): true, false, or empty = only standalone with NODE_ENV=development', format: ['', 'true', 'false'], default: '', env: 'KI_DEMO_TYPES' },
    assignMaxAgeMs: { doc: 'Assignments sealed longer ago than this are refused (the An has retried them elsewhere long since)', format: nonNegativeInt, default: 600000, env: 'KI_ASSIGN_MAX_AGE_MS' },
    attemptMemoryEntries: { doc: 'Tasks whose highest started attempt the Ki remembers, to refuse a replayed assignment', format: nonNegativeInt, default: 100000, env: 'KI_ATTEMPT_MEMORY_ENTRIES' },
    attemptMemoryTtlMs: { doc: 'How long the Ki remembers the highest started attempt of a task', format: nonNegativeInt, default: 3600000, env: 'KI_ATTEMPT_MEMORY_TTL_MS' },
    httpEndpoint: { doc: 'Inference endpoint the http executor posts to', format: String, default: '', env: 'KI_HTTP_ENDPOINT' },
    maxOutputBytes: { doc: 'Bound of captured stdout/stderr per stream', format: nonNegativeInt, default: 65536, env: 'KI_MAX_OUTPUT_BYTES' },
    killGraceMs: { doc: 'Time between SIGTERM and SIGKILL of a timed-out or cancelled process, and how long a cancelled or timed-out plug-in call in a worker process may take to end before that worker is killed', format: nonNegativeInt, default: 2000, env: 'KI_KILL_GRACE_MS' },
    pluginIsolation: { doc: 'Which plug-in (KI_HANDLERS) tasks run in a worker process of their GPU reservation, with CUDA_VISIBLE_DEVICES set to it: gpu (tasks that reserved GPUs), all (CPU tasks too, in one worker that sees no GPU), none (every task in the Ki\'s own process). Tasks naming a model always run in the Ki\'s process', format: ['gpu', 'all', 'none'], default: 'gpu', env: 'KI_PLUGIN_ISOLATION' },
    gpuWorkerIdleMs: { doc: 'How long a plug-in worker process is kept without calls before it exits (the next task on its GPUs starts a fresh one, reloading what the plug-in loads); 0 = kept until the Ki stops', format: nonNegativeInt, default: 600000, env: 'KI_GPU_WORKER_IDLE_MS' },
    progressMinIntervalMs: { doc: 'Least time between two progress reports of a task to its An (a report of completion always goes)', format: nonNegativeInt, default: 500, env: 'KI_PROGRESS_MIN_INTERVAL_MS' },
    streamMaxChars: { doc: 'Characters of output (ctx.emit, exec stdout lines, http token deltas) one attempt may stream to clients; the rest is dropped from the stream (the result is unaffected)', format: nonNegativeInt, default: 1_048_576, env: 'KI_STREAM_MAX_CHARS' },
    streamFlushMs: { doc: 'How long a Ki gathers the output chunks of its running attempts before it sends them to each An in one message', format: nonNegativeInt, default: 20, env: 'KI_STREAM_FLUSH_MS' },
    startedReportDelayMs: { doc: 'A task still running after this long is reported as started to its An; one that ends sooner reports only its result (one message and one row write less)', format: nonNegativeInt, default: 20, env: 'KI_STARTED_REPORT_DELAY_MS' },
    stableIdFromHostname: { doc: 'Without NODE_STABLE_ID: take the Ki\'s stable identity from a StatefulSet hostname (name-3 → ki-3); else from its GPU UUIDs (hashed), else its node id', format: Boolean, default: false, env: 'KI_STABLE_ID_FROM_HOSTNAME' },
    resultBatchMax: { doc: `Most results per task.result message (at most ${MAX_ITEMS}, the protocol's limit)`, format: intBetween(1, MAX_ITEMS), default: 500, env: 'KI_RESULT_BATCH_MAX' },
  },
  cluster: {
    heartbeatMs: { doc: 'Heartbeat period of every node', format: nonNegativeInt, default: 300, env: 'HEARTBEAT_MS' },
    suspectAfterMs: { doc: 'Silence after which a member is suspect', format: nonNegativeInt, default: 1000, env: 'SUSPECT_AFTER_MS' },
    deadAfterMs: { doc: 'Silence after which a member is dead', format: nonNegativeInt, default: 2500, env: 'DEAD_AFTER_MS' },
    removeAfterMs: { doc: 'Silence after which a dead member is removed from the list', format: nonNegativeInt, default: 60000, env: 'REMOVE_AFTER_MS' },
    resumeGraceMs: { doc: 'A node that could not hear the cluster (its broker connection down, or its own heartbeat not coming back for SUSPECT_AFTER_MS) judges nobody meanwhile; once it hears again, no member turns dead for this long, so nodes that lost the broker with it can reconnect (cf. AMQP_RECONNECT_MAX_DELAY_MS)', format: nonNegativeInt, default: 5000, env: 'CLUSTER_RESUME_GRACE_MS' },
    maxMembers: { doc: 'Most members a node keeps in its membership list; heartbeats of new members beyond it are refused (counted in anki_membership_refused_total) while known ones keep updating', format: nonNegativeInt, default: 10000, env: 'CLUSTER_MAX_MEMBERS' },
  },
  shutdown: {
    graceMs: { doc: 'Deadline of each shutdown step (drain, close)', format: nonNegativeInt, default: 10000, env: 'SHUTDOWN_GRACE_MS' },
  },
};

/** The validated, typed configuration: mirrors {@link configSchema} key for key. */
export interface AppConfig {
  env: 'production' | 'development' | 'test';
  nodeId: string;
  stableId: string;
  version: string;
  amqp: { url: string; prefix: string; heartbeatSec: number; reconnectMaxDelayMs: number; connectTimeoutMs: number; publishTimeoutMs: number; caFile: string; certFile: string; keyFile: string;
    deadLetterMaxLength: number; deadLetterMaxBytes: number; deadLetterTtlMs: number; startupTimeoutMs: number; quorumGroupSize: number };
  db: {
    url: string; poolSize: number; statementTimeoutMs: number; connectTimeoutMs: number; queryTimeoutMs: number; idleInTransactionTimeoutMs: number; keepAliveMs: number;
    maxTxAttempts: number; dataDir: string; sslCaFile: string; startupTimeoutMs: number; probeIntervalMs: number; probeTimeoutMs: number;
  };
  security: {
    jwtSecret: string; jwtAlgorithms: string[]; jwtAudience: string; jwtIssuer: string; clientHs256: 'auto' | 'on' | 'off'; clockToleranceSec: number;
    jwksUrl: string; jwksAlgorithms: string[]; jwksCacheTtlSec: number; jwksMinRefreshIntervalSec: number; jwksAllowHttp: boolean;
    aesKeys: string; joinSecret: string; nodeTokenTtlSec: number; replayWindowMs: number; maxMessageBytes: number;
    nodeTokenMode: 'shared' | 'issued'; nodeSigningKey: string; nodeTokenPublicKeys: string; nodeTokenExtraPublicKeys: string;
    joinSecretAn: string; joinSecretKi: string;
  };
  http: { port: number; host: string; maxBodyBytes: number; rateLimitRps: number; rateLimitBurst: number; eventsTicketTtlSec: number; dashboardTraceUrl: string };
  metrics: { port: number; host: string };
  log: { level: string };
  otel: { enabled: '' | 'true' | 'false' | boolean; endpoint: string; protocol: '' | 'grpc' | 'http/protobuf'; sampleRatio: number };
  tasks: { defaultType: string; defaultPriority: number; defaultMaxAttempts: number; defaultTimeoutMs: number; maxBatch: number; limits: string; listMaxBytes: number; maxDelayMs: number };
  workflows: { maxNodes: number; maxFanOut: number; reconcileIntervalMs: number };
  principal: {
    maxAdmitted: number; maxWaitSec: number; maxWaiters: number; maxStreams: number; streamMaxTasks: number; streamMaxChars: number; streamKeepMs: number; maxInFlightWrites: number; sweepIntervalMs: number; unpublishedGraceMs: number; leaderLeaseMs: number; electionTickMs: number;
    publishMarkIntervalMs: number; publishMarkAfterMs: number; admittedReconcileAfterMs: number; queueDepthIntervalMs: number; releaseIntervalMs: number;
    liveNodesIntervalMs: number; liveQuarantineRefreshMs: number; groupAssignPendingMs: number; groupMaxMovesPerRound: number;
    joinReplyExpirationMs: number; deadPendingRetryMs: number; deadLetterStoreMax: number;
  };
  tenants: { publishWindow: number; releaseIntervalMs: number; gpuPeriod: 'day' | 'week' | 'month' };
  schedules: { tickMs: number; maxPerOwner: number; maxBodyBytes: number; failoverGraceMs: number; duePerPass: number; statsIntervalMs: number };
  retention: { maxAgeMs: number; batch: number; intervalMs: number; maxBatchesPerPass: number; exportDir: string };
  models: { reconcileIntervalMs: number; demandWindowMs: number; backlogHorizonMs: number; lookbackMs: number; minResidencyMs: number; tolerancePct: number; maxMovesPerRound: number };
  storeStats: { countCap: number; countTtlMs: number; tableStatsIntervalMs: number };
  an: {
    group: string; policy: 'least-loaded' | 'lru'; leaseMs: number; retryBaseMs: number; retryMaxMs: number; writeBatchMax: number; maxResultBytes: number; maxResultDepth: number;
    maxWaitMs: number; windowTasksPerSlot: number; windowMinTasks: number; windowMaxTasks: number; dispatchRecordDelayMs: number; dbRetryMs: number;
    assignBatchMax: number; minorityPenalty: number; quarantineAt: number; quarantineRefreshMs: number;
    breakerFailures: number; breakerBackoffMs: number; breakerMaxBackoffMs: number;
  };
  ki: {
    slots: number; gpus: string; gpuRefreshMs: number; slotsPerGpu: number; labels: string[]; group: string; handlers: string; modelSlots: number;
    execAllowlist: string; execPath: string; execUser: string; httpEndpoint: string; maxOutputBytes: number; killGraceMs: number; pluginIsolation: 'gpu' | 'all' | 'none'; gpuWorkerIdleMs: number;
    demoTypes: '' | 'true' | 'false'; assignMaxAgeMs: number; attemptMemoryEntries: number; attemptMemoryTtlMs: number;
    progressMinIntervalMs: number; startedReportDelayMs: number; resultBatchMax: number; streamMaxChars: number; streamFlushMs: number; stableIdFromHostname: boolean;
  };
  cluster: { heartbeatMs: number; suspectAfterMs: number; deadAfterMs: number; removeAfterMs: number; resumeGraceMs: number; maxMembers: number };
  shutdown: { graceMs: number };
}
