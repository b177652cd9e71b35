import { Registry } from 'prom-client';
import { amqpTargets, amqpVhost, splitAmqpUrls, type AppConfig, type Role } from './config';
import { HealthState } from './lifecycle/health';
import { withDeadline, type Service } from './lifecycle/service';
import { waitForDependency } from './lifecycle/startup-wait';
import { isBrokerUnreachable } from './lifecycle/broker-startup';
import { StoreProbe } from './lifecycle/store-probe';
import { createMetrics, type Logger, type Metrics } from './observability';
import { startMetricsServer } from './observability/metrics-server';
import type { Tracing } from './observability/tracing';
import { topologyNames } from './protocol/names';
import { EnvelopeCodec, parseKeyRing, ReplayGuard, setUpNodeIdentity } from './security';
import { Joiner } from './cluster';
import type { Database } from './store';
import type * as OpenDatabaseModule from './store/open-database';
import { AmqpTransport, InProcessTransport, MessageBus, type Transport } from './transport';
import { ConfigError } from './errors';
import type { RoleContext, RoleServices } from './roles/role-context';
import type * as KiRoleModule from './roles/ki-role';
import type * as AnRoleModule from './roles/an-role';
import type * as PrincipalRoleModule from './roles/principal-role';

/*
 * Each role's code, and the store, are required when a process takes that role: a Ki never loads
 * pg, Koa or the principal's routes, and an An never loads the REST API (together ~15 MB of RSS
 * in a process that would not use them).
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const loadStore = () => require('./store/open-database') as typeof OpenDatabaseModule;
const loadKiRole = () => require('./roles/ki-role') as typeof KiRoleModule;
const loadAnRole = () => require('./roles/an-role') as typeof AnRoleModule;
const loadPrincipalRole = () => require('./roles/principal-role') as typeof PrincipalRoleModule;
/* eslint-enable @typescript-eslint/no-require-imports */

let policyInstalled = false;

/**
 * Policy for a promise rejection nothing handled: log it at error with its stack, count it
 * (`anki_unhandled_rejections_total`, worth an alert) and keep running. Not exit: it is a path
 * that forgot its catch, and what a node holds is kept consistent by guarded DB transitions,
 * leases and unacked messages, not by the process; exiting (Node's default) would turn one missed
 * catch into a restart of every task this node runs, and a crash loop if the cause repeats.
 */
export function installUnhandledRejectionPolicy(log: Logger, metrics: Pick<Metrics, 'unhandledRejections'>): void {
  // Process-wide: a second node in the same process (tests) must not count and log each rejection twice.
  if (policyInstalled) return;
  policyInstalled = true;
  process.on('unhandledRejection', (reason) => {
    metrics.unhandledRejections.inc();
    const err = reason instanceof Error ? { message: reason.message, stack: reason.stack, code: (reason as { code?: unknown }).code } : { message: String(reason) };
    log.error({ err }, 'unhandled promise rejection; the node keeps running');
  });
}

/** `migrate`: applies pending migrations and exits. */
export async function runMigrate(config: AppConfig, log: Logger): Promise<void> {
  const { db, applied } = await loadStore().openMigratedDatabase(config, log, 'migrate');
  log.info({ applied }, applied.length ? 'migrations applied' : 'database is up to date');
  await db.close();
}

/**
 * Opens (and migrates) the role's database. A server that is not reachable yet (started after
 * this node, or restarting) is waited for, one log line per try, up to `db.startupTimeoutMs`;
 * meanwhile /healthz answers 200 and /readyz 503.
 */
async function openStore(role: Role, config: AppConfig, log: Logger, metrics: Pick<Metrics, 'dbRetries'>): Promise<Database> {
  const store = loadStore();
  const onRetry = (code: string) => metrics.dbRetries.inc({ code });
  if (!config.db.url) return (await store.openMigratedDatabase(config, log, role, onRetry)).db;
  const opened = await waitForDependency(() => store.openMigratedDatabase(config, log, role, onRetry), {
    what: 'database', target: store.databaseTarget(config.db.url), deadlineMs: config.db.startupTimeoutMs, log, isTransient: store.isStoreUnreachable,
  });
  return opened.db;
}

/**
 * Starts the transport. A broker that is not reachable yet is waited for like the database: one
 * log line per try, /readyz 503, exit 1 past the start-up deadline. amqplib gives up a first
 * connect after a few quick tries (at least one per broker of AMQP_URL) and remembers that, so each
 * try gets a fresh transport, which starts again at the first broker of the list.
 */
async function startTransport(first: Transport, newTransport: () => Transport, config: AppConfig, log: Logger): Promise<Transport> {
  if (!config.amqp.url) {
    await first.start();
    return first;
  }
  let next: Transport | undefined = first;
  return waitForDependency(async () => {
    const candidate = next ?? newTransport();
    next = undefined;
    try {
      await candidate.start();
      return candidate;
    } catch (err) {
      await candidate.stop().catch(() => undefined);
      throw err;
    }
  }, { what: 'broker', target: amqpTargets(config.amqp.url), deadlineMs: config.amqp.startupTimeoutMs, log, isTransient: isBrokerUnreachable });
}

/** Builds the adapters for one role, starts its services in order and stops them in reverse on SIGTERM/SIGINT. */
export async function runNode(role: Role, config: AppConfig, log: Logger, tracing: Tracing): Promise<{ restPort?: number }> {
  const registry = new Registry();
  const metrics = createMetrics(registry, role);
  installUnhandledRejectionPolicy(log, metrics);
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
  const newTransport = (): Transport => withStatusLog(config.amqp.url
    ? new AmqpTransport({
      urls: splitAmqpUrls(config.amqp.url), names, heartbeatSec: config.amqp.heartbeatSec, reconnectMaxDelayMs: config.amqp.reconnectMaxDelayMs, connectTimeoutMs: config.amqp.connectTimeoutMs,
      publishTimeoutMs: config.amqp.publishTimeoutMs, connectionName: `${role}:${config.nodeId}`,
      tls: { caFile: config.amqp.caFile, certFile: config.amqp.certFile, keyFile: config.amqp.keyFile },
      deadLetter: { maxLength: config.amqp.deadLetterMaxLength, maxBytes: config.amqp.deadLetterMaxBytes, ttlMs: config.amqp.deadLetterTtlMs },
      quorumGroupSize: config.amqp.quorumGroupSize,
      onWarning: (message) => log.warn(message),
    })
    : new InProcessTransport({ names, maxDeadLetters: config.amqp.deadLetterMaxLength }));
  const withStatusLog = (t: Transport): Transport => {
    let connectedOnce = false;
    t.onStatus((s) => {
      // Which broker of the list, by host and port: the URL carries the password.
      if (s.type === 'connected') {
        connectedOnce = true;
        if (s.reconnect) metrics.amqpReconnects.inc();
        if (s.broker) log.info({ broker: s.broker }, s.reconnect ? 'broker reconnected' : 'broker connected');
      } else if (s.type === 'disconnected') log.warn({ broker: s.broker, err: s.error?.message }, 'broker connection lost');
      // Before the first connect the start-up wait logs each try; after it, a failing reconnect would otherwise be silent.
      else if (s.type === 'reconnecting' && connectedOnce && s.attempt > 1) log.warn({ attempt: s.attempt - 1, next: s.broker, retryInMs: s.delayMs, err: s.error?.message }, 'broker reconnect failed; trying the next');
      else if (s.type === 'blocked') log.warn({ reason: s.reason }, 'broker blocked publishing');
    });
    return t;
  };
  // Replaced while the broker is waited for at start-up (a failed start is not tried again on the same transport).
  let transport = newTransport();
  health.require('broker', () => transport.connected);
  // Not ready until every service listens (the principal's REST port opens last).
  let started = false;
  health.require('started', () => started);
  const newBus = () => new MessageBus({ transport, codec: newCodec(), metrics, log });

  let db: Database | undefined;
  if (role !== 'ki') {
    // Not ready while the store is being waited for, then as its probe says.
    let storeReachable = () => false;
    health.require('store', () => storeReachable());
    const opened = await openStore(role, config, log, metrics);
    stops.push({ name: 'database', stop: () => opened.close() });
    db = opened;
    storeReachable = () => true;
    // Embedded PGlite cannot go away on its own (and has no ping); pinging it would only read a
    // busy moment as an outage.
    if (opened.ping && config.db.probeIntervalMs > 0) {
      const probe = new StoreProbe({
        ping: opened.ping.bind(opened), intervalMs: config.db.probeIntervalMs, timeoutMs: config.db.probeTimeoutMs, log: log.child({ component: 'store-probe' }),
      });
      storeReachable = () => probe.reachable;
      probe.start();
      stops.push({ name: 'store probe', stop: async () => probe.stop() });
    }
    // With the in-process bus, queued messages died with the last process: let the sweeper republish.
    if (transport instanceof InProcessTransport) await db.query("UPDATE tasks SET published_at = NULL WHERE status = 'queued' AND published_at IS NOT NULL");
  }
  transport = await startTransport(transport, newTransport, config, log);
  stops.push({ name: 'transport', stop: () => transport.stop() });

  // Issued mode: an An or a Ki has no token until the leader admits it, so nothing else starts before.
  const joiner = identity.join ? new Joiner({ bus: newBus(), names, nodeId: config.nodeId, join: identity.join, log: log.child({ component: 'join' }) }) : undefined;
  if (joiner) {
    stops.push({ name: 'join', stop: () => joiner.stop() });
    if (!(await joiner.start())) return {};
  }
  const ctx: RoleContext = { config, log, metrics, health, names, newBus, ...(joiner ? { joiner } : {}) };
  const built: RoleServices[] = [];
  if (role === 'ki' || role === 'standalone') built.push(await loadKiRole().kiServices(ctx, { standalone: role === 'standalone' }));
  if (role === 'an' || role === 'standalone') built.push(loadAnRole().anServices({ ...ctx, db: db! }));
  if (role === 'principal' || role === 'standalone') built.push(loadPrincipalRole().principalServices({ ...ctx, db: db! }, identity.issue));
  services.push(...built.flatMap((b) => b.services));
  for (const s of services) {
    await s.start();
    stops.push(s);
  }
  started = true;

  log.info({ prefix: config.amqp.prefix, vhost: config.amqp.url ? amqpVhost(config.amqp.url) : 'in-process', database: config.db.url ? 'server' : 'pglite' }, 'node started');
  const restPort = built.find((b) => b.restPort)?.restPort?.();
  return restPort !== undefined ? { restPort } : {};
}
