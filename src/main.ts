#!/usr/bin/env node
import { Registry } from 'prom-client';
import { COMMANDS, parseArgs, USAGE, type Command } from './cli/args';
import { loadConfig, type AppConfig, type Role } from './config';
import { ConfigError } from './errors';
import { HealthState } from './lifecycle/health';
import { withDeadline, type Service } from './lifecycle/service';
import { createLogger, createMetrics, type Logger } from './observability';
import { startMetricsServer } from './observability/metrics-server';
import { topologyNames } from './protocol/names';
import { ClientTokenVerifier, EnvelopeCodec, mintClientToken, NodeTokenAuthority, OwnToken, parseKeyRing, ReplayGuard, CLIENT_ROLES, type ClientRole } from './security';
import { migrate, PgDatabase, ReputationRepository, TaskRepository, type Database } from './store';
import { ensureDatabase } from './store/ensure-database';
import { AmqpTransport, MessageBus, type Transport } from './transport';
import { PrincipalNode } from './principal/principal-node';
import { DbLeaseLeadership } from './principal/db-lease-leadership';
import { ElectionTicker } from './principal/election-ticker';
import { AnNode } from './an/an-node';
import { KiNode } from './ki/ki-node';
import { BUILTIN_EXECUTORS } from './ki/executors/builtins';
import { createConfiguredExecutors } from './ki/executors/configured';
import { discoverGpus, formatProbe } from './ki/gpu';

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.help || !args.command) {
    console.log(USAGE);
    return args.command || args.help ? 0 : 2;
  }
  if (!(COMMANDS as readonly string[]).includes(args.command)) {
    console.error(`unknown command "${args.command}": expected one of ${COMMANDS.join(', ')} (see --help)`);
    return 2;
  }
  const command = args.command as Command;
  const role: Role | undefined = command === 'principal' || command === 'an' || command === 'ki' || command === 'standalone' ? command : undefined;
  const convictArgs = args.rest.filter((a, i, all) => !['--sub', '--role', '--ttl', '--probe'].includes(a) && !['--sub', '--role', '--ttl'].includes(all[i - 1] ?? ''));
  const config = loadConfig({ args: convictArgs, ...(args.configFile ? { configFile: args.configFile } : {}), ...(role ? { role } : {}) });

  if (command === 'token') return mintToken(config, args.options);
  if (command === 'ki' && args.options.has('probe')) {
    const found = await discoverGpus(config.ki.gpus);
    console.log(formatProbe(found.devices, found.reason));
    return 0;
  }
  const log = createLogger({ nodeId: config.nodeId, role: command, level: config.log.level });
  if (command === 'migrate') {
    await ensureDatabase(config.db.url, config.db.connectTimeoutMs);
    const db = openDatabase(config, log, 'migrate');
    try {
      const applied = await migrate(db, config.nodeId);
      log.info({ applied }, applied.length ? 'migrations applied' : 'database is up to date');
    } finally {
      await db.close();
    }
    return 0;
  }
  await runNode(role!, config, log);
  return 0;
}

function mintToken(config: AppConfig, options: Map<string, string | true>): number {
  const sub = options.get('sub');
  const role = options.get('role') ?? 'submitter';
  if (typeof sub !== 'string' || sub === '') throw new ConfigError('token: --sub NAME is required');
  const roles = String(role).split(',');
  for (const r of roles) if (!CLIENT_ROLES.includes(r as ClientRole)) throw new ConfigError(`token: --role must be one of ${CLIENT_ROLES.join(', ')}`);
  const ttl = options.get('ttl');
  const ttlSec = typeof ttl === 'string' ? Number(ttl) : 24 * 3600;
  if (!Number.isInteger(ttlSec) || ttlSec <= 0) throw new ConfigError('token: --ttl must be a positive number of seconds');
  console.log(mintClientToken(config.security.jwtSecret, {
    sub, role: roles.length === 1 ? (roles[0] as ClientRole) : (roles as ClientRole[]), ttlSec,
    ...(config.security.jwtAudience ? { audience: config.security.jwtAudience } : {}), ...(config.security.jwtIssuer ? { issuer: config.security.jwtIssuer } : {}),
  }));
  return 0;
}

function openDatabase(config: AppConfig, log: Logger, name: string): Database {
  return new PgDatabase({
    url: config.db.url, poolSize: config.db.poolSize, statementTimeoutMs: config.db.statementTimeoutMs, connectTimeoutMs: config.db.connectTimeoutMs,
    maxTxAttempts: config.db.maxTxAttempts, applicationName: `anki-${name}-${config.nodeId}`,
    ...(config.db.sslCaFile ? { sslCaFile: config.db.sslCaFile } : {}),
    onError: (err) => log.warn({ err: err.message }, 'idle database connection failed'),
  });
}

/** Builds the adapters for one role, starts its services in order and stops them in reverse on SIGTERM/SIGINT. */
async function runNode(role: Role, config: AppConfig, log: Logger): Promise<void> {
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
    log.flush();
  })());
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => { void shutdown(sig).then(() => process.exit(0)); });

  const metricsServer = await startMetricsServer(registry, health, config.metrics.port, config.metrics.host);
  stops.push({ name: 'metrics', stop: () => new Promise((r) => metricsServer.server.close(() => r())) });
  log.info({ port: metricsServer.port }, 'metrics listening');

  const tokens = new NodeTokenAuthority(config.security.jwtSecret, { ttlSec: config.security.nodeTokenTtlSec, clockToleranceSec: config.security.clockToleranceSec });
  const codec = new EnvelopeCodec({
    nodeId: config.nodeId, keys: parseKeyRing(config.security.aesKeys), tokens,
    ownToken: new OwnToken(tokens, { sub: config.nodeId, role: role }, config.security.nodeTokenTtlSec),
    replay: new ReplayGuard(config.security.replayWindowMs), replayWindowMs: config.security.replayWindowMs, maxMessageBytes: config.security.maxMessageBytes,
  });
  const transport: Transport = new AmqpTransport({
    url: config.amqp.url, names, heartbeatSec: config.amqp.heartbeatSec, reconnectMaxDelayMs: config.amqp.reconnectMaxDelayMs,
    publishTimeoutMs: config.amqp.publishTimeoutMs, connectionName: `${role}:${config.nodeId}`,
    tls: { caFile: config.amqp.caFile, certFile: config.amqp.certFile, keyFile: config.amqp.keyFile },
  });
  transport.onStatus((s) => {
    if (s.type === 'connected' && s.reconnect) { metrics.amqpReconnects.inc(); log.info('broker reconnected'); }
    else if (s.type === 'disconnected') log.warn({ err: s.error?.message }, 'broker connection lost');
    else if (s.type === 'blocked') log.warn({ reason: s.reason }, 'broker blocked publishing');
  });
  health.require('broker', () => transport.connected);
  const bus = new MessageBus({ transport, codec, metrics, log });

  let db: Database | undefined;
  if (role !== 'ki') {
    if (await ensureDatabase(config.db.url, config.db.connectTimeoutMs)) log.info('database created');
    db = openDatabase(config, log, role);
    const openedDb = db;
    stops.push({ name: 'database', stop: () => openedDb.close() });
    await migrate(db, config.nodeId);
  }
  await transport.start();
  stops.push({ name: 'transport', stop: () => transport.stop() });

  const repo = db ? new TaskRepository(db) : undefined;
  if (role === 'ki' || role === 'standalone') {
    const kiLog = log.child({ component: 'ki' });
    const gpus = await discoverGpus(config.ki.gpus);
    if (gpus.reason) kiLog.info({ reason: gpus.reason }, 'no GPUs in use');
    const executors = { ...BUILTIN_EXECUTORS, ...createConfiguredExecutors(config.ki, kiLog) };
    services.push(new KiNode({ nodeId: config.nodeId, config, bus, names, log: kiLog, metrics, executors, gpus: gpus.devices }));
  }
  if (role === 'an' || role === 'standalone') {
    services.push(new AnNode({ nodeId: config.nodeId, config, bus, names, repo: repo!, reputation: new ReputationRepository(db!), log: log.child({ component: 'an' }), metrics }));
  }
  if (role === 'principal' || role === 'standalone') {
    const ticker = new ElectionTicker({ bus, names, nodeId: config.nodeId, tickMs: config.principal.electionTickMs, log });
    const leadership = new DbLeaseLeadership({ db: db!, nodeId: config.nodeId, leaseMs: config.principal.leaderLeaseMs, tickMs: config.principal.electionTickMs, metrics, log, wantsLead: () => ticker.isCandidate() });
    services.push({ name: 'election', start: () => ticker.start(), stop: () => ticker.stop() });
    const verifier = new ClientTokenVerifier({
      secret: config.security.jwtSecret, algorithms: config.security.jwtAlgorithms, clockToleranceSec: config.security.clockToleranceSec,
      ...(config.security.jwtAudience ? { audience: config.security.jwtAudience } : {}), ...(config.security.jwtIssuer ? { issuer: config.security.jwtIssuer } : {}),
    });
    services.push(leadership);
    services.push(new PrincipalNode({ nodeId: config.nodeId, config, bus, names, repo: repo!, reputation: new ReputationRepository(db!), log: log.child({ component: 'principal' }), metrics, health, verifier, leadership }));
  }
  for (const s of services) {
    await s.start();
    stops.push(s);
  }
  log.info({ prefix: config.amqp.prefix, vhost: new URL(config.amqp.url).pathname || '/' }, 'node started');
}

main(process.argv.slice(2)).then(
  (code) => { if (code !== 0) process.exit(code); },
  (err: unknown) => {
    if (err instanceof ConfigError) console.error(err.message);
    else console.error(`fatal: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
