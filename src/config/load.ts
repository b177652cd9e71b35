import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import convict from 'convict';
import { configSchema, DEV_AES_KEYS, DEV_JOIN_SECRET, DEV_JWT_SECRET, type AppConfig, type Role } from './schema';
import { withSecretFiles } from './secret-files';
import { ConfigError } from '../errors';

/** Where config files are looked up; `config/` beside the package root. */
const CONFIG_DIR = join(__dirname, '..', '..', 'config');

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Command-line arguments after the role (convict reads `--port`, `--node-id`, ...). */
  args?: string[];
  /** Explicit config file (`--config`), else `CONFIG_FILE`. */
  configFile?: string;
  role?: Role;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Loads config from `config/default.json`, `config/<NODE_ENV>.json`, `--config`/`CONFIG_FILE`,
 * the environment and flags, in that order; validates strictly and returns a frozen object.
 * Every secret may come from a file instead: `<ENV>_FILE` (see {@link withSecretFiles}).
 * Throws {@link ConfigError} with one line naming the offending key.
 */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const env = withSecretFiles(options.env ?? process.env, configSchema);
  const config = convict(configSchema, { env, args: options.args ?? [] });
  const files = [join(CONFIG_DIR, 'default.json'), join(CONFIG_DIR, `${env['NODE_ENV'] ?? 'development'}.json`)];
  const explicit = options.configFile ?? env['CONFIG_FILE'];
  try {
    for (const file of files) if (existsSync(file)) config.loadFile(file);
    if (explicit) {
      if (!existsSync(explicit)) throw new ConfigError(`config file ${explicit} does not exist`);
      config.loadFile(explicit);
    }
    config.validate({ allowed: 'strict' });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const first = String((err as Error).message).split('\n')[0] ?? 'invalid configuration';
    throw new ConfigError(`invalid configuration: ${first}`, { cause: err });
  }
  const props = config.getProperties() as unknown as AppConfig;
  if (!props.nodeId) props.nodeId = `${options.role ?? 'node'}-${hostname()}-${process.pid}`;
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(props.nodeId)) throw new ConfigError(`invalid configuration: nodeId "${props.nodeId}" must match [A-Za-z0-9._-]{1,128}`);
  checkProductionSecrets(props, options.role);
  props.db.url = withDatabaseCa(props.db.url, props.db.sslCaFile);
  return deepFreeze(props);
}

/**
 * Folds `DB_SSL_CA_FILE` into the database URL. pg lets TLS parameters of a URL replace the pool's
 * `ssl` option, so a CA given beside a URL naming `sslmode` would be dropped; in the URL it holds
 * for every connection, the start-up probe included. An explicit `sslrootcert` or `sslmode` wins.
 */
export function withDatabaseCa(url: string, caFile: string): string {
  if (!url || !caFile) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('invalid configuration: db.url (DATABASE_URL) is not a URL');
  }
  if (!parsed.searchParams.has('sslrootcert')) parsed.searchParams.set('sslrootcert', caFile);
  if (!parsed.searchParams.has('sslmode')) parsed.searchParams.set('sslmode', 'verify-full');
  return parsed.toString();
}

const MIN_SECRET_CHARS = 32;

/** The development secrets by value: a production node refuses each of them under any key. */
const DEV_SECRET_VALUES: ReadonlySet<string> = new Set([DEV_JWT_SECRET, DEV_JOIN_SECRET]);

/** The key bytes of an `AES_KEYS` value (`kid:base64key,...`); malformed entries are left to the key ring's parser. */
function aesKeyMaterial(spec: string): Buffer[] {
  return spec.split(',').map((e) => e.trim()).filter(Boolean).map((e) => Buffer.from(e.slice(e.indexOf(':') + 1), 'base64'));
}

const DEV_AES_MATERIAL = aesKeyMaterial(DEV_AES_KEYS);

/** Whether `spec` holds the development AES key, whatever kid it is filed under. */
function holdsDevAesKey(spec: string): boolean {
  return aesKeyMaterial(spec).some((key) => DEV_AES_MATERIAL.some((dev) => dev.equals(key)));
}

/** Roles that verify client tokens (the REST API). */
const verifiesClientTokens = (role?: Role) => role === 'principal' || role === 'standalone';

/**
 * With NODE_ENV=production a node refuses the development secrets (by value, under any key id)
 * and short ones, and a node that serves REST requires the audience and issuer of client tokens:
 * without them a token minted for another service with the same key would be accepted. In issued
 * mode an An or a Ki needs neither JWT_SECRET_KEY nor JOIN_SECRET (only its own role's join
 * secret), so those are checked where they are used.
 */
export function checkProductionSecrets(config: AppConfig, role?: Role): void {
  if (config.env !== 'production') return;
  const s = config.security;
  const issued = s.nodeTokenMode === 'issued';
  if (!issued || (role !== 'an' && role !== 'ki')) {
    if (DEV_SECRET_VALUES.has(s.jwtSecret)) throw new ConfigError('invalid configuration: security.jwtSecret (JWT_SECRET_KEY) is the development default; set a secret for production');
    if (!s.jwtSecret.includes('BEGIN') && s.jwtSecret.length < MIN_SECRET_CHARS) throw new ConfigError(`invalid configuration: security.jwtSecret (JWT_SECRET_KEY) is shorter than ${MIN_SECRET_CHARS} characters`);
  }
  if (holdsDevAesKey(s.aesKeys)) throw new ConfigError('invalid configuration: security.aesKeys (AES_KEYS) contains the development key; set keys for production');
  if (verifiesClientTokens(role)) {
    if (!s.jwtAudience.trim()) throw new ConfigError('invalid configuration: security.jwtAudience (JWT_AUDIENCE) is empty; production requires the audience of client tokens');
    if (!s.jwtIssuer.trim()) throw new ConfigError('invalid configuration: security.jwtIssuer (JWT_ISSUER) is empty; production requires the issuer of client tokens');
  }
  if (issued) {
    checkIssuedProductionSecrets(config, role);
    return;
  }
  if (DEV_SECRET_VALUES.has(s.joinSecret)) throw new ConfigError('invalid configuration: security.joinSecret (JOIN_SECRET) is the development default; set a secret for production');
  if (s.joinSecret.length < MIN_SECRET_CHARS) throw new ConfigError(`invalid configuration: security.joinSecret (JOIN_SECRET) is shorter than ${MIN_SECRET_CHARS} characters`);
}

/**
 * Issued mode: a per-role join secret derived from JOIN_SECRET would let whoever holds JOIN_SECRET
 * (every node, in practice) join as any role, so each role's secret must be set on its own.
 */
function checkIssuedProductionSecrets(config: AppConfig, role: Role | undefined): void {
  const s = config.security;
  const signs = role === 'principal' || role === 'standalone';
  if (signs && !s.nodeSigningKey.trim()) throw new ConfigError('invalid configuration: security.nodeSigningKey (NODE_SIGNING_KEY) is empty; issued node tokens need a signing key (node dist/main.js keygen)');
  const needed: { key: 'joinSecretAn' | 'joinSecretKi'; env: string }[] = [];
  if (signs || role === 'an') needed.push({ key: 'joinSecretAn', env: 'JOIN_SECRET_AN' });
  if (signs || role === 'ki') needed.push({ key: 'joinSecretKi', env: 'JOIN_SECRET_KI' });
  for (const { key, env } of needed) {
    const value = s[key];
    if (!value) throw new ConfigError(`invalid configuration: security.${key} (${env}) is empty; set a secret of its own for production in issued mode`);
    if (DEV_SECRET_VALUES.has(value)) throw new ConfigError(`invalid configuration: security.${key} (${env}) is the development default; set a secret for production`);
    if (value.length < MIN_SECRET_CHARS) throw new ConfigError(`invalid configuration: security.${key} (${env}) is shorter than ${MIN_SECRET_CHARS} characters`);
  }
}

/** The config as a log-safe string (secrets masked by convict). */
export function describeConfig(config: AppConfig): string {
  const c = convict(configSchema);
  c.load(config as never);
  return c.toString();
}
