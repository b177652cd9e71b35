import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors';
import pg from 'pg';
import { checkProductionSecrets, loadConfig, withDatabaseCa } from '../../../src/config/load';
import { DEV_AES_KEYS, DEV_JOIN_SECRET, DEV_JWT_SECRET } from '../../../src/config/schema';

/** Asserts that loading fails with a one-line ConfigError that names `key`. */
function assertNamesKey(env: Record<string, string>, key: string): void {
  assert.throws(() => loadConfig({ env }), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(err.message.includes(key), `"${err.message}" does not name ${key}`);
    assert.equal(err.message.includes('\n'), false, 'the message is one line');
    return true;
  });
}

const strongAesKeys = () => `prod1:${randomBytes(32).toString('base64')}`;
const strongSecret = () => randomBytes(32).toString('hex');

describe('loadConfig', () => {
  it('loads the documented defaults', () => {
    const c = loadConfig({ env: { NODE_ENV: 'test' } });
    assert.equal(c.env, 'test');
    assert.equal(c.http.port, 3030);
    assert.equal(c.metrics.port, 9090);
    assert.equal(c.amqp.prefix, 'anki');
    assert.equal(c.http.maxBodyBytes, 1024 * 1024);
    assert.equal(c.otel.endpoint, '', 'unset: OTEL_ENABLED=true alone sends to http://localhost:4317');
    assert.equal(c.security.jwtSecret, DEV_JWT_SECRET);
    assert.equal(c.security.aesKeys, DEV_AES_KEYS);
    assert.deepEqual(c.security.jwtAlgorithms, ['HS256']);
    assert.equal(c.ki.gpus, 'auto');
    assert.equal(c.an.policy, 'least-loaded');
  });

  it('applies config/<NODE_ENV>.json on top of the defaults', () => {
    assert.equal(loadConfig({ env: { NODE_ENV: 'test' } }).log.level, 'warn');
    assert.equal(loadConfig({ env: { NODE_ENV: 'development' } }).log.level, 'info');
  });

  it('maps the environment names of the design to their keys', () => {
    const aes = strongAesKeys();
    const c = loadConfig({
      env: {
        NODE_ENV: 'test', NODE_ID: 'an-7', HTTP_PORT: '4000', METRICS_PORT: '9191', AMQP_PREFIX: 'run-42', KI_SLOTS: '7',
        MAX_BODY_BYTES: '2048', AES_KEYS: aes, JWT_SECRET_KEY: 'my-secret', AMQP_URL: 'amqp://u:p@broker:5672',
        DATABASE_URL: 'postgres://db/anki', OTLP_ENDPOINT: 'http://collector:4317', LOG_LEVEL: 'debug', KI_GPUS: 'none',
      },
    });
    assert.equal(c.nodeId, 'an-7');
    assert.equal(c.http.port, 4000);
    assert.equal(c.metrics.port, 9191);
    assert.equal(c.amqp.prefix, 'run-42');
    assert.equal(c.ki.slots, 7);
    assert.equal(c.http.maxBodyBytes, 2048);
    assert.equal(c.security.aesKeys, aes);
    assert.equal(c.security.jwtSecret, 'my-secret');
    assert.equal(c.amqp.url, 'amqp://u:p@broker:5672');
    assert.equal(c.db.url, 'postgres://db/anki');
    assert.equal(c.otel.endpoint, 'http://collector:4317');
    assert.equal(c.ki.gpus, 'none');
  });

  it('lets the environment win over the NODE_ENV file', () => {
    assert.equal(loadConfig({ env: { NODE_ENV: 'test', LOG_LEVEL: 'debug' } }).log.level, 'debug');
  });

  it('reads list settings from comma separated environment values', () => {
    const c = loadConfig({ env: { NODE_ENV: 'test', JWT_ALGORITHMS: 'HS256,RS256', KI_LABELS: 'a100,fast' } });
    assert.deepEqual(c.security.jwtAlgorithms, ['HS256', 'RS256']);
    assert.deepEqual(c.ki.labels, ['a100', 'fast']);
  });

  it('reads flags after the environment', () => {
    const c = loadConfig({ env: { NODE_ENV: 'test', HTTP_PORT: '4000' }, args: ['--port', '5000', '--node-id', 'flagged'] });
    assert.equal(c.http.port, 5000);
    assert.equal(c.nodeId, 'flagged');
  });

  it('loads an explicit config file and refuses one that does not exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anki-config-'));
    try {
      const file = join(dir, 'extra.json');
      writeFileSync(file, JSON.stringify({ ki: { slots: 12 }, amqp: { prefix: 'from-file' } }));
      const c = loadConfig({ env: { NODE_ENV: 'test', AMQP_PREFIX: 'from-env' }, configFile: file });
      assert.equal(c.ki.slots, 12);
      assert.equal(c.amqp.prefix, 'from-env');
      assert.equal(loadConfig({ env: { NODE_ENV: 'test', CONFIG_FILE: file } }).ki.slots, 12);
      assert.throws(() => loadConfig({ env: { NODE_ENV: 'test' }, configFile: join(dir, 'missing.json') }), (err: unknown) => err instanceof ConfigError && /does not exist/.test(err.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown key in a config file, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anki-config-'));
    try {
      const file = join(dir, 'typo.json');
      writeFileSync(file, JSON.stringify({ http: { prot: 1 } }));
      assert.throws(() => loadConfig({ env: { NODE_ENV: 'test' }, configFile: file }), (err: unknown) => err instanceof ConfigError && err.message.includes('http.prot'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('invalid values', () => {
    it('names http.port for HTTP_PORT=abc', () => assertNamesKey({ NODE_ENV: 'test', HTTP_PORT: 'abc' }, 'http.port'));
    it('names http.port for a port out of range', () => assertNamesKey({ NODE_ENV: 'test', HTTP_PORT: '70000' }, 'http.port'));
    it('names metrics.port for METRICS_PORT=-1', () => assertNamesKey({ NODE_ENV: 'test', METRICS_PORT: '-1' }, 'metrics.port'));
    it('names amqp.prefix for a prefix with a space and a bang', () => assertNamesKey({ NODE_ENV: 'test', AMQP_PREFIX: 'bad prefix!' }, 'amqp.prefix'));
    it('names ki.slots for KI_SLOTS=-1', () => assertNamesKey({ NODE_ENV: 'test', KI_SLOTS: '-1' }, 'ki.slots'));
    it('names http.maxBodyBytes for MAX_BODY_BYTES=lots', () => assertNamesKey({ NODE_ENV: 'test', MAX_BODY_BYTES: 'lots' }, 'http.maxBodyBytes'));
    it('names log.level for an unknown level', () => assertNamesKey({ NODE_ENV: 'test', LOG_LEVEL: 'loud' }, 'log.level'));
    it('names an.policy for an unknown policy', () => assertNamesKey({ NODE_ENV: 'test', AN_POLICY: 'random' }, 'an.policy'));
    it('names env for an unknown NODE_ENV', () => assertNamesKey({ NODE_ENV: 'staging' }, 'env'));
    it('names nodeId for a node id with a space', () => assertNamesKey({ NODE_ENV: 'test', NODE_ID: 'an 1' }, 'nodeId'));
  });

  describe('production', () => {
    it('refuses the default JWT secret, naming security.jwtSecret', () => {
      assertNamesKey({ NODE_ENV: 'production' }, 'security.jwtSecret');
    });

    it('refuses a short JWT secret, naming security.jwtSecret', () => {
      assertNamesKey({ NODE_ENV: 'production', JWT_SECRET_KEY: 'short', AES_KEYS: strongAesKeys(), JOIN_SECRET: strongSecret() }, 'security.jwtSecret');
    });

    it('refuses the default AES keys, naming security.aesKeys', () => {
      assertNamesKey({ NODE_ENV: 'production', JWT_SECRET_KEY: strongSecret(), JOIN_SECRET: strongSecret() }, 'security.aesKeys');
    });

    it('refuses the development AES key even next to a proper one', () => {
      assertNamesKey({ NODE_ENV: 'production', JWT_SECRET_KEY: strongSecret(), AES_KEYS: `${strongAesKeys()},${DEV_AES_KEYS}`, JOIN_SECRET: strongSecret() }, 'security.aesKeys');
    });

    it('refuses the default join secret, naming security.joinSecret', () => {
      assertNamesKey({ NODE_ENV: 'production', JWT_SECRET_KEY: strongSecret(), AES_KEYS: strongAesKeys() }, 'security.joinSecret');
    });

    it('loads with proper long secrets', () => {
      const c = loadConfig({ env: { NODE_ENV: 'production', NODE_ID: 'principal-0', JWT_SECRET_KEY: strongSecret(), AES_KEYS: strongAesKeys(), JOIN_SECRET: strongSecret() } });
      assert.equal(c.env, 'production');
      assert.equal(c.nodeId, 'principal-0');
      assert.notEqual(c.security.jwtSecret, DEV_JWT_SECRET);
      assert.notEqual(c.security.joinSecret, DEV_JOIN_SECRET);
    });

    it('accepts a PEM public key as JWT secret regardless of its length check', () => {
      const base = loadConfig({ env: { NODE_ENV: 'test' } });
      const pem = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----';
      const config = { ...base, env: 'production' as const, security: { ...base.security, jwtSecret: pem, aesKeys: strongAesKeys(), joinSecret: strongSecret() } };
      assert.doesNotThrow(() => checkProductionSecrets(config));
    });

    it('does not check secrets outside production', () => {
      assert.doesNotThrow(() => loadConfig({ env: { NODE_ENV: 'development' } }));
      assert.doesNotThrow(() => loadConfig({ env: { NODE_ENV: 'test', JWT_SECRET_KEY: 'x' } }));
    });
  });

  it('derives a node id from role, host and pid when NODE_ID is empty', () => {
    const c = loadConfig({ env: { NODE_ENV: 'test', NODE_ID: '' }, role: 'an' });
    assert.match(c.nodeId, /^an-.+-\d+$/);
    assert.ok(c.nodeId.endsWith(`-${process.pid}`));
    assert.match(loadConfig({ env: { NODE_ENV: 'test' } }).nodeId, /^node-/);
  });

  it('returns a deeply frozen object', () => {
    const c = loadConfig({ env: { NODE_ENV: 'test' } });
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.http));
    assert.ok(Object.isFrozen(c.security));
    assert.ok(Object.isFrozen(c.security.jwtAlgorithms));
    assert.throws(() => { (c.http as { port: number }).port = 1; }, TypeError);
    assert.equal(c.http.port, 3030);
  });

  it('does not share state between loads', () => {
    const a = loadConfig({ env: { NODE_ENV: 'test', HTTP_PORT: '4001' } });
    const b = loadConfig({ env: { NODE_ENV: 'test' } });
    assert.equal(a.http.port, 4001);
    assert.equal(b.http.port, 3030);
  });
});

describe('DB_SSL_CA_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anki-ca-'));
  const ca = join(dir, 'db-ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB-test\n-----END CERTIFICATE-----\n');
  /** The TLS options pg builds from a URL, as every pool connection and the start-up probe use it. */
  const tlsOf = (url: string) => (new pg.Client({ connectionString: url }) as unknown as { connectionParameters: { ssl: unknown } }).connectionParameters.ssl as { ca?: string; rejectUnauthorized?: boolean } | false;

  it('reaches pg from a plain URL, checked against that CA', () => {
    const tls = tlsOf(withDatabaseCa('postgres://anki@db:5432/anki', ca));
    assert.ok(tls && tls.ca?.includes('MIIB-test'));
    assert.notEqual(tls.rejectUnauthorized, false);
  });

  it('is not dropped when the URL names sslmode, and keeps the URL\'s sslmode', () => {
    const url = withDatabaseCa('postgres://anki@db:5432/anki?sslmode=verify-ca', ca);
    assert.equal(new URL(url).searchParams.get('sslmode'), 'verify-ca');
    const tls = tlsOf(url);
    assert.ok(tls && tls.ca?.includes('MIIB-test'));
  });

  it('leaves the URL alone when no CA file is set, and an explicit sslrootcert wins', () => {
    assert.equal(withDatabaseCa('postgres://anki@db/anki', ''), 'postgres://anki@db/anki');
    const url = withDatabaseCa(`postgres://anki@db/anki?sslrootcert=${encodeURIComponent('/etc/other.pem')}`, ca);
    assert.equal(new URL(url).searchParams.get('sslrootcert'), '/etc/other.pem');
  });
});
