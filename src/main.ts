#!/usr/bin/env node
import { readBuildInfo } from './build-info';
import { COMMANDS, parseArgs, USAGE, type Command } from './cli/args';
import { CLIENT_COMMANDS, CLIENT_USAGE, runClientCommand, splitClientCommand, stdioOutput } from './cli/client';
import { loadConfig, type AppConfig, type Role } from './config';
import { ConfigError } from './errors';
import { StartupTimeoutError } from './lifecycle/startup-wait';
import type * as LoggerModule from './observability/logger';
import { startTracing, type TracingLog } from './observability/tracing';
import { generateNodeKeyPair, mintClientToken, CLIENT_ROLES, type ClientRole } from './security';
import { discoverGpus, formatProbe } from './ki/gpu';
import type * as NodeModule from './node';

/**
 * The role code (store, transport, Koa app, roles). Required only once tracing has started: the
 * OpenTelemetry instrumentations patch pg, amqplib, koa and http as they are loaded, and modules
 * imported at the top of this file would be loaded before that.
 */
function loadNodeModule(): typeof NodeModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./node') as typeof NodeModule;
}

/**
 * The logger module, and with it pino. Required only once tracing has started: the pino
 * instrumentation that sends log records over OTLP patches pino when it is loaded.
 */
function loadLoggerModule(): typeof LoggerModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./observability/logger') as typeof LoggerModule;
}

/** What a newcomer needs after `node dist/main.js standalone`: where, a token, and a first request. */
function printWelcome(config: AppConfig, port: number): void {
  const token = mintClientToken(config.security.jwtSecret, { sub: 'dev', role: 'admin', ttlSec: 7 * 24 * 3600 });
  const url = `http://localhost:${port}`;
  console.log([
    '', `an-ki standalone is running: ${url} (dashboard at ${url}/)`,
    `  broker: ${config.amqp.url ? 'RabbitMQ' : 'in-process'}; store: ${config.db.url ? 'PostgreSQL' : `embedded PGlite in ${config.db.dataDir}`}`,
    '', 'development token (admin, 7 days):', `  export T=${token}`,
    '', 'try:', `  curl -s -X POST ${url}/tasks -H "Authorization: Bearer $T" -d '{"type":"echo","payload":{"x":1}}'`,
    `  node dist/main.js list --url ${url} --token $T`, '',
  ].join('\n'));
}

async function main(argv: readonly string[]): Promise<number> {
  const client = splitClientCommand(argv);
  if (client) return runClientCommand(client.command, client.args, process.env, stdioOutput());
  const args = parseArgs(argv);
  if (args.version) {
    const build = readBuildInfo();
    console.log(`an-ki ${build.version} (commit ${build.commit})`);
    return 0;
  }
  if (args.help || !args.command) {
    console.log(`${USAGE}\n\n${CLIENT_USAGE}`);
    return args.command || args.help ? 0 : 2;
  }
  if (!(COMMANDS as readonly string[]).includes(args.command)) {
    console.error(`unknown command "${args.command}": expected one of ${[...COMMANDS, ...CLIENT_COMMANDS].join(', ')} (see --help)`);
    return 2;
  }
  const command = args.command as Command;
  if (command === 'keygen') return printKeyPair();
  const role: Role | undefined = command === 'principal' || command === 'an' || command === 'ki' || command === 'standalone' ? command : undefined;
  const convictArgs = args.rest.filter((a, i, all) => !['--sub', '--role', '--tenant', '--ttl', '--probe'].includes(a) && !['--sub', '--role', '--tenant', '--ttl'].includes(all[i - 1] ?? ''));
  const config = loadConfig({ args: convictArgs, ...(args.configFile ? { configFile: args.configFile } : {}), ...(role ? { role } : {}) });

  if (command === 'token') return mintToken(config, args.options);
  if (command === 'ki' && args.options.has('probe')) {
    const found = await discoverGpus(config.ki.gpus);
    console.log(formatProbe(found.devices, found.reason));
    return 0;
  }
  const newLogger = () => loadLoggerModule().createLogger({ nodeId: config.nodeId, role: command, level: config.log.level });
  if (command === 'migrate') {
    await loadNodeModule().runMigrate(config, newLogger());
    return 0;
  }
  // The SDK's diagnostics go to the logger, which can only be made once the SDK has started.
  const sink: { log?: LoggerModule.Logger } = {};
  const diagnostics: TracingLog = { warn: (obj, msg) => sink.log?.warn(obj, msg), error: (obj, msg) => sink.log?.error(obj, msg) };
  const tracing = startTracing({ role: role!, nodeId: config.nodeId, version: config.version, ...config.otel, log: diagnostics });
  const log = (sink.log = newLogger());
  const { restPort } = await loadNodeModule().runNode(role!, config, log, tracing);
  if (role === 'standalone' && restPort && config.env !== 'production') printWelcome(config, restPort);
  return 0;
}

function mintToken(config: AppConfig, options: Map<string, string | true>): number {
  const sub = options.get('sub');
  const role = options.get('role') ?? 'submitter';
  if (typeof sub !== 'string' || sub === '') throw new ConfigError('token: --sub NAME is required');
  const roles = String(role).split(',');
  for (const r of roles) if (!CLIENT_ROLES.includes(r as ClientRole)) throw new ConfigError(`token: --role must be one of ${CLIENT_ROLES.join(', ')}`);
  const tenant = options.get('tenant');
  if (tenant === true || tenant === '') throw new ConfigError('token: --tenant needs a name');
  const ttl = options.get('ttl');
  const ttlSec = typeof ttl === 'string' ? Number(ttl) : 24 * 3600;
  if (!Number.isInteger(ttlSec) || ttlSec <= 0) throw new ConfigError('token: --ttl must be a positive number of seconds');
  console.log(mintClientToken(config.security.jwtSecret, {
    sub, role: roles.length === 1 ? (roles[0] as ClientRole) : (roles as ClientRole[]), ttlSec, ...(tenant !== undefined ? { tenant } : {}),
    ...(config.security.jwtAudience ? { audience: config.security.jwtAudience } : {}), ...(config.security.jwtIssuer ? { issuer: config.security.jwtIssuer } : {}),
  }));
  return 0;
}

/** `keygen`: a fresh ES256 pair; the private half goes to NODE_SIGNING_KEY, the public one may be pinned. */
function printKeyPair(): number {
  const pair = generateNodeKeyPair();
  console.log([
    `# node token signing key (ES256, kid ${pair.kid})`,
    '# NODE_SIGNING_KEY (principals only; keep it secret):', pair.privatePem.trim(),
    '# NODE_TOKEN_PUBLIC_KEYS (optional, any node; pins the key):', pair.publicPem.trim(),
  ].join('\n'));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => { if (code !== 0) process.exit(code); },
  (err: unknown) => {
    // Configuration and an unreachable dependency are the operator's to fix: one line, no stack.
    if (err instanceof ConfigError || err instanceof StartupTimeoutError) console.error(err.message);
    else console.error(`fatal: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
