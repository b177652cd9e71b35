import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors';
import { loadConfig } from '../../../src/config/load';
import { configSchema, DEV_AES_KEYS, DEV_JOIN_SECRET, DEV_JWT_SECRET } from '../../../src/config/schema';
import { sensitiveEnvKeys } from '../../../src/config/secret-files';

const strong = () => randomBytes(32).toString('hex');
const devKeyBytes = DEV_AES_KEYS.slice(DEV_AES_KEYS.indexOf(':') + 1);

function refuses(load: () => unknown, key: string, pattern?: RegExp): void {
  assert.throws(load, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(err.message.includes(key), `"${err.message}" does not name ${key}`);
    assert.equal(err.message.includes('\n'), false, 'one line');
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

/** Production settings a principal starts with; each test spoils one. */
const prodPrincipal = (): Record<string, string> => ({
  NODE_ENV: 'production', JWT_SECRET_KEY: strong(), AES_KEYS: `prod:${randomBytes(32).toString('base64')}`, JOIN_SECRET: strong(),
  JWT_AUDIENCE: 'an-ki', JWT_ISSUER: 'https://idp.example',
});

describe('production secret checks compare key material', () => {
  it('refuses the development AES key filed under another kid', () => {
    refuses(() => loadConfig({ env: { ...prodPrincipal(), AES_KEYS: `prod:${devKeyBytes}` }, role: 'principal' }), 'security.aesKeys');
  });

  it('refuses the development AES key behind a proper one, under any kid', () => {
    refuses(() => loadConfig({ env: { ...prodPrincipal(), AES_KEYS: `k2:${randomBytes(32).toString('base64')},old:${devKeyBytes}` }, role: 'principal' }), 'security.aesKeys');
  });

  it('refuses a development secret used for another secret', () => {
    refuses(() => loadConfig({ env: { ...prodPrincipal(), JWT_SECRET_KEY: DEV_JOIN_SECRET }, role: 'principal' }), 'security.jwtSecret');
    refuses(() => loadConfig({ env: { ...prodPrincipal(), JOIN_SECRET: DEV_JWT_SECRET }, role: 'principal' }), 'security.joinSecret');
  });

  it('loads a principal with its own keys', () => {
    assert.equal(loadConfig({ env: prodPrincipal(), role: 'principal' }).env, 'production');
  });
});

describe('production client token settings', () => {
  it('requires JWT_AUDIENCE on a principal and on standalone', () => {
    for (const role of ['principal', 'standalone'] as const) {
      refuses(() => loadConfig({ env: { ...prodPrincipal(), JWT_AUDIENCE: '' }, role }), 'JWT_AUDIENCE');
    }
  });

  it('requires JWT_ISSUER on a principal', () => {
    refuses(() => loadConfig({ env: { ...prodPrincipal(), JWT_ISSUER: '' }, role: 'principal' }), 'JWT_ISSUER');
  });

  it('does not ask an An or a Ki, which verify no client token, for them', () => {
    const env = { ...prodPrincipal(), JWT_AUDIENCE: '', JWT_ISSUER: '' };
    assert.doesNotThrow(() => loadConfig({ env, role: 'an' }));
    assert.doesNotThrow(() => loadConfig({ env, role: 'ki' }));
  });

  it('reads CLIENT_HS256 as auto, on or off', () => {
    assert.equal(loadConfig({ env: { NODE_ENV: 'test' } }).security.clientHs256, 'auto');
    assert.equal(loadConfig({ env: { NODE_ENV: 'test', CLIENT_HS256: 'off' } }).security.clientHs256, 'off');
    refuses(() => loadConfig({ env: { NODE_ENV: 'test', CLIENT_HS256: 'maybe' } }), 'security.clientHs256');
  });
});

describe('secrets from files (<ENV>_FILE)', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'anki-secret-files-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };

  it('offers a _FILE variable for every sensitive key', () => {
    const envs = sensitiveEnvKeys(configSchema).map((k) => k.env).sort();
    assert.deepEqual(envs, ['AES_KEYS', 'AMQP_URL', 'DATABASE_URL', 'JOIN_SECRET', 'JOIN_SECRET_AN', 'JOIN_SECRET_KI', 'JWT_SECRET_KEY', 'NODE_SIGNING_KEY']);
  });

  it('reads each secret from its file, trailing line break trimmed', () => {
    const aes = `k1:${randomBytes(32).toString('base64')}`;
    const jwt = strong();
    const c = loadConfig({
      env: {
        NODE_ENV: 'test', AES_KEYS_FILE: file('aes', `${aes}\n`), JWT_SECRET_KEY_FILE: file('jwt', `${jwt}\r\n`),
        AMQP_URL_FILE: file('amqp', 'amqp://u:p@broker:5672\n'), DATABASE_URL_FILE: file('db', 'postgres://u:p@db/anki'),
        JOIN_SECRET_FILE: file('join', 'j'.repeat(40)), JOIN_SECRET_AN_FILE: file('join-an', 'a'.repeat(40)),
        JOIN_SECRET_KI_FILE: file('join-ki', 'k'.repeat(40)), NODE_SIGNING_KEY_FILE: file('sign', '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n'),
      },
    });
    assert.equal(c.security.aesKeys, aes);
    assert.equal(c.security.jwtSecret, jwt);
    assert.equal(c.amqp.url, 'amqp://u:p@broker:5672');
    assert.equal(c.db.url, 'postgres://u:p@db/anki');
    assert.equal(c.security.joinSecret, 'j'.repeat(40));
    assert.equal(c.security.joinSecretAn, 'a'.repeat(40));
    assert.equal(c.security.joinSecretKi, 'k'.repeat(40));
    assert.equal(c.security.nodeSigningKey, '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----');
  });

  it('passes the production checks with secrets read from files', () => {
    const env = prodPrincipal();
    const c = loadConfig({ env: { ...env, JWT_SECRET_KEY: '', JWT_SECRET_KEY_FILE: file('prod-jwt', `${env['JWT_SECRET_KEY']}\n`) }, role: 'principal' });
    assert.equal(c.security.jwtSecret, env['JWT_SECRET_KEY']);
  });

  it('refuses a secret set both directly and as a file, naming both', () => {
    refuses(() => loadConfig({ env: { NODE_ENV: 'test', AES_KEYS: DEV_AES_KEYS, AES_KEYS_FILE: file('both', DEV_AES_KEYS) } }), 'security.aesKeys', /AES_KEYS_FILE/);
  });

  it('refuses a file that cannot be read, without falling back to a default', () => {
    refuses(() => loadConfig({ env: { NODE_ENV: 'test', JWT_SECRET_KEY_FILE: join(dir, 'missing') } }), 'security.jwtSecret', /JWT_SECRET_KEY_FILE.*ENOENT/);
  });

  it('treats an empty file as an unset secret, so a chart may mount keys it has no value for', () => {
    const c = loadConfig({ env: { NODE_ENV: 'test', JWT_SECRET_KEY_FILE: file('empty', '\n') } });
    assert.equal(c.security.jwtSecret, DEV_JWT_SECRET);
    refuses(() => loadConfig({ env: { ...prodPrincipal(), JWT_SECRET_KEY: '', JWT_SECRET_KEY_FILE: file('empty2', '') }, role: 'principal' }), 'security.jwtSecret');
  });

  it('leaves the environment passed in unchanged', () => {
    const env = { NODE_ENV: 'test', JOIN_SECRET_FILE: file('join2', 'x'.repeat(40)) };
    loadConfig({ env });
    assert.deepEqual(Object.keys(env).sort(), ['JOIN_SECRET_FILE', 'NODE_ENV']);
  });
});
