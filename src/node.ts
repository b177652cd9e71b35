import { Registry } from 'prom-client';
import type { AppConfig, Role } from './config';
import { HealthState } from './lifecycle/health';
import { withDeadline, type Service } from './lifecycle/service';
import { createMetrics, type Logger } from './observability';
import { startMetricsServer } from './observability/metrics-server';
import type { Tracing } from './observability/tracing';
import { topologyNames } from './protocol/names';
import { JwksKeySource, jwksAlgorithms } from './security/jwks';
import { ClientTokenVerifier, EnvelopeCodec, parseKeyRing, ReplayGuard, setUpNodeIdentity } from './security';
import { Joiner } from './cluster';
import { migrate, PgDatabase, ReputationRepository, TaskRepository, type Database } from './store';
import { ensureDatabase } from './store/ensure-database';
import { AmqpTransport, InProcessTransport, MessageBus, type Transport } from './transport';
import { PgliteDatabase } from './store/pglite-database';
import { ConfigError } from './errors';
import { PrincipalNode } from './principal/principal-node';
import { DbLeaseLeadership } from './principal/db-lease-leadership';
import { ElectionTicker } from './principal/election-ticker';
import { AnNode } from './an/an-node';
import { KiNode } from './ki/ki-node';
import { BUILTIN_EXECUTORS } from './ki/executors/builtins';
import { createConfiguredExecutors } from './ki/executors/configured';
import { discoverGpus } from './ki/gpu';

/** `migrate`: applies pending migrations and exits. */
export async function runMigrate(config: AppConfig, log: Logger): Promise<void> {
  if (config.db.url) await ensureDatabase(config.db.url, config.db.connectTimeoutMs);
  const db = openDatabase(config, log, 'migrate');
  try {
    const applied = await migrate(db, config.nodeId);
    log.info({ applied }, applied.length ? 'migrations applied' : 'database is up to date');
  } finally {
    await db.close();
  }
}

function openDatabase(config: AppConfig, log: Logger, name: string): Database {
  if (!config.db.url) {
    log.info({ dataDir: config.db.dataDir }, 'no DATABASE_URL: embedded PGlite database');
    return new PgliteDatabase({ dataDir: config.db.dataDir, maxTxAttempts: config.db.maxTxAttempts });
  }
  return new PgDatabase({
    url: config.db.url, poolSize: config.db.poolSize, statementTimeoutMs: config.db.statementTimeoutMs, connectTimeoutMs: config.db.connectTimeoutMs,
    maxTxAttempts: config.db.maxTxAttempts, applicationName: `anki-${name}-${config.nodeId}`,
    onError: (err) => log.warn({ err: err.message }, 'idle database connection failed'),
  });
}

/** The JWK set of an external identity provider (JWKS_URL), fetched lazily and cached. */
function identityProviderKeys(config: AppConfig, log: Logger): { source: JwksKeySource; algorithms: string[] } {
  const s = config.security;
  const source = new JwksKeySource({
    url: s.jwksUrl, allowHttp: s.jwksAllowHttp && config.env !== 'production',
    cacheTtlMs: s.jwksCacheTtlSec * 1000, minRefreshIntervalMs: s.jwksMinRefreshIntervalSec * 1000,
    onWarning: (message, err) => log.warn({ jwksUrl: s.jwksUrl, err: (err as Error | undefined)?.message }, message),
  });
  return { source, algorithms: jwksAlgorithms(s.jwksAlgorithms) };
}

/** Builds the adapters for one role, starts its services in order and stops them in reverse on SIGTERM/SIGINT. */
export async function runNode(role: Role, config: AppConfig, log: Logger, tracing: Tracing): Promise<{ restPort?: number }> {
  const registry = new Registry();
  const metrics = createMetrics(registry, role);
  const health = new HealthState();
  const names = topologyNames(config.amqp.prefix);
  const services: Service[] = [];
  const stops: { name: string; stop: () => Promise<void> }[] = [];

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (signal: string) => (shuttingDown ??= (async () => {
    log.info({ signal }, 'shutting down');
    health.setDraining();
    for (const s of [...stops].reverse()) {
      try {
        await withDeadline(s.stop(), config.shutdown.graceMs, `stop ${s.name}`);
      } catch (err) {
        log.error({ service: s.name, err: (err as Error).message }, 'stop failed');
      }
    }
    log.info('stopped');
    // The destination writes asynchronously: without waiting, exit would drop the last lines.
    await new Promise<void>((resolve) => log.flush(() => resolve()));
  })());
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => { void shutdown(sig).then(() => process.exit(0)); });
  // First in, last out: spans of the other services' shutdown are still flushed.
  stops.push({ name: 'tracing', stop: () => tracing.shutdown() });

  const metricsServer = await startMetricsServer(registry, health, config.metrics.port, config.metrics.host);
  stops.push({ name: 'metrics', stop: () => new Promise((r) => metricsServer.server.close(() => r())) });
  log.info({ port: metricsServer.port }, 'metrics listening');

  const identity = setUpNodeIdentity(role, config.nodeId, config.security);
  if (role !== 'standalone' && !config.amqp.url) throw new ConfigError('invalid configuration: amqp.url (AMQP_URL) is empty; only the standalone role runs without a broker (in-process bus)');
  if (role !== 'standalone' && role !== 'ki' && !config.db.url) throw new ConfigError('invalid configuration: db.url (DATABASE_URL) is empty; only the standalone role runs without a database server (embedded PGlite)');
  const keys = parseKeyRing(config.security.aesKeys);
  // One codec per role: in standalone the same message (a Ki heartbeat) reaches the principal's and
  // the An's queues, and a shared replay guard would refuse the second copy as a replay.
  const newCodec = () => new EnvelopeCodec({
    nodeId: config.nodeId, keys, tokens: identity.verifier, ownToken: identity.ownToken,
    replay: new ReplayGuard(config.security.replayWindowMs), replayWindowMs: config.security.replayWindowMs, maxMessageBytes: config.security.maxMessageBytes,
    ...(identity.pop ? { pop: identity.pop } : {}),
  });
  const transport: Transport = config.amqp.url
    ? new AmqpTransport({
      url: config.amqp.url, names, heartbeatSec: config.amqp.heartbeatSec, reconnectMaxDelayMs: config.amqp.reconnectMaxDelayMs,
      publishTimeoutMs: config.amqp.publishTimeoutMs, connectionName: `${role}:${config.nodeId}`,
      tls: { caFile: config.amqp.caFile, certFile: config.amqp.certFile, keyFile: config.amqp.keyFile },
    })
    : new InProcessTransport({ names });
  transport.onStatus((s) => {
    if (s.type === 'connected' && s.reconnect) { metrics.amqpReconnects.inc(); log.info('broker reconnected'); }
    else if (s.type === 'disconnected') log.warn({ err: s.error?.message }, 'broker connection lost');
    else if (s.type === 'blocked') log.warn({ reason: s.reason }, 'broker blocked publishing');
  });
  health.require('broker', () => transport.connected);
  // Not ready until every service listens (the principal's REST port opens last).
  let started = false;
  health.require('started', () => started);
  const newBus = () => new MessageBus({ transport, codec: newCodec(), metrics, log });

  let db: Database | undefined;
  if (role !== 'ki') {
    if (config.db.url && (await ensureDatabase(config.db.url, config.db.connectTimeoutMs))) log.info('database created');
    db = openDatabase(config, log, role);
    const openedDb = db;
    stops.push({ name: 'database', stop: () => openedDb.close() });
    await migrate(db, config.nodeId);
    // With the in-process bus, queued messages died with the last process: let the sweeper republish.
    if (transport instanceof InProcessTransport) await db.query("UPDATE tasks SET published_at = NULL WHERE status = 'queued' AND published_at IS NOT NULL");
  }
  await transport.start();
  stops.push({ name: 'transport', stop: () => transport.stop() });

  // Issued mode: an An or a Ki has no token until the leader admits it, so nothing else starts before.
  const joiner = identity.join ? new Joiner({ bus: newBus(), names, nodeId: config.nodeId, join: identity.join, log: log.child({ component: 'join' }) }) : undefined;
  if (joiner) {
    stops.push({ name: 'join', stop: () => joiner.stop() });
    if (!(await joiner.start())) return {};
  }
  const instance = joiner ? { instance: joiner.instance } : {};

  const repo = db ? new TaskRepository(db) : undefined;
  if (role === 'ki' || role === 'standalone') {
    const kiLog = log.child({ component: 'ki' });
    const gpus = await discoverGpus(config.ki.gpus);
    if (gpus.reason) kiLog.info({ reason: gpus.reason }, 'no GPUs in use');
    const executors = { ...BUILTIN_EXECUTORS, ...createConfiguredExecutors(config.ki, kiLog) };
    services.push(new KiNode({ nodeId: config.nodeId, config, bus: newBus(), names, log: kiLog, metrics, executors, gpus: gpus.devices, ...instance, ...(joiner ? { onGroupChange: () => joiner.refreshNow() } : {}) }));
  }
  if (role === 'an' || role === 'standalone') {
    services.push(new AnNode({ nodeId: config.nodeId, config, bus: newBus(), names, repo: repo!, reputation: new ReputationRepository(db!), log: log.child({ component: 'an' }), metrics, ...instance }));
  }
  if (role === 'principal' || role === 'standalone') {
    const bus = newBus();
    const ticker = new ElectionTicker({ bus, names, nodeId: config.nodeId, tickMs: config.principal.electionTickMs, log });
    const leadership = new DbLeaseLeadership({ db: db!, nodeId: config.nodeId, leaseMs: config.principal.leaderLeaseMs, tickMs: config.principal.electionTickMs, metrics, log, wantsLead: () => ticker.isCandidate() });
    services.push({ name: 'election', start: () => ticker.start(), stop: () => ticker.stop() });
    const verifier = new ClientTokenVerifier({
      secret: config.security.jwtSecret, algorithms: config.security.jwtAlgorithms, clockToleranceSec: config.security.clockToleranceSec,
      ...(config.security.jwtAudience ? { audience: config.security.jwtAudience } : {}), ...(config.security.jwtIssuer ? { issuer: config.security.jwtIssuer } : {}),
      ...(config.security.jwksUrl ? { jwks: identityProviderKeys(config, log) } : {}),
    });
    services.push(leadership);
    services.push(new PrincipalNode({ nodeId: config.nodeId, config, bus, names, repo: repo!, reputation: new ReputationRepository(db!), log: log.child({ component: 'principal' }), metrics, health, verifier, leadership, ...(identity.issue ? { identity: identity.issue } : {}) }));
  }
  for (const s of services) {
    await s.start();
    stops.push(s);
  }
  started = true;

  log.info({ prefix: config.amqp.prefix, vhost: config.amqp.url ? new URL(config.amqp.url).pathname || '/' : 'in-process', database: config.db.url ? 'server' : 'pglite' }, 'node started');
  const principal = services.find((s): s is PrincipalNode => s instanceof PrincipalNode);
  return principal ? { restPort: principal.port } : {};
}

