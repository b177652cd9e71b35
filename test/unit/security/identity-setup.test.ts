import { strict as assert } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors';
import { loadConfig } from '../../../src/config/load';
import { setUpNodeIdentity, type IdentitySettings } from '../../../src/security/identity-setup';
import type { IssuedTokenVerifier } from '../../../src/security/issued-tokens';
import { generateNodeKeyPair } from '../../../src/security/node-keys';
import { NodeTokenAuthority } from '../../../src/security/node-tokens';

const pair = generateNodeKeyPair();
const base: IdentitySettings = {
  jwtSecret: 'unit-test-jwt-secret-0123456789abcdef-0123456789', joinSecret: 'unit-test-join-secret-0123456789abcdef', joinSecretAn: '', joinSecretKi: '',
  nodeTokenMode: 'issued', nodeSigningKey: pair.privatePem, nodeTokenPublicKeys: '', nodeTokenExtraPublicKeys: '', nodeTokenTtlSec: 60, clockToleranceSec: 5,
};
const pemOf = (k: { export(o: object): string | Buffer }, type: 'pkcs8' | 'spki') => k.export({ format: 'pem', type }).toString();

/** Asserts a one-line ConfigError naming `key`. */
function assertConfigError(fn: () => unknown, key: string, text?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(err.message.includes(key), `"${err.message}" does not name ${key}`);
    if (text) assert.match(err.message, text);
    assert.equal(err.message.includes('\n'), false);
    return true;
  });
}

describe('node identity setup', () => {
  it('keeps the shared HS256 authority in shared mode', () => {
    const s = setUpNodeIdentity('ki', 'ki-1', { ...base, nodeTokenMode: 'shared' });
    assert.ok(s.verifier instanceof NodeTokenAuthority);
    assert.equal(s.join, undefined);
    assert.equal(s.issue, undefined);
  });

  it('gives a principal a signer whose tokens its own verifier accepts, and announces its key first', () => {
    const extra = generateNodeKeyPair();
    const s = setUpNodeIdentity('principal', 'p1', { ...base, nodeTokenExtraPublicKeys: extra.publicPem });
    assert.deepEqual(s.issue!.announced.map((k) => k.kid), [pair.kid, extra.kid]);
    assert.equal(s.verifier.verify(s.ownToken.get()).role, 'principal');
    assert.equal(s.verifier.verify(s.issue!.signer.sign({ sub: 'ki-1', role: 'ki' })).sub, 'ki-1');
  });

  it('gives an An and a Ki only their own role secret and a verifier that learns keys unless pinned', () => {
    const ki = setUpNodeIdentity('ki', 'ki-1', base);
    assert.equal(ki.join!.role, 'ki');
    assert.equal(ki.issue, undefined);
    assert.equal((ki.verifier as IssuedTokenVerifier).pinned, false);
    assert.throws(() => ki.ownToken.get(), /not been admitted/);
    const pinned = setUpNodeIdentity('an', 'an-1', { ...base, nodeTokenPublicKeys: pair.publicPem });
    assert.equal((pinned.verifier as IssuedTokenVerifier).pinned, true);
    assert.deepEqual((pinned.verifier as IssuedTokenVerifier).kids, [pair.kid]);
  });

  it('reads keys from files, several comma-separated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anki-keys-'));
    try {
      const other = generateNodeKeyPair();
      writeFileSync(join(dir, 'a.pem'), pair.publicPem);
      writeFileSync(join(dir, 'b.pem'), other.publicPem);
      writeFileSync(join(dir, 'signing.pem'), pair.privatePem);
      const s = setUpNodeIdentity('an', 'an-1', { ...base, nodeTokenPublicKeys: `${join(dir, 'a.pem')},${join(dir, 'b.pem')}` });
      assert.deepEqual((s.verifier as IssuedTokenVerifier).kids, [pair.kid, other.kid]);
      assert.equal(setUpNodeIdentity('principal', 'p1', { ...base, nodeSigningKey: join(dir, 'signing.pem') }).issue!.signer.kid, pair.kid);
      assertConfigError(() => setUpNodeIdentity('principal', 'p1', { ...base, nodeSigningKey: join(dir, 'missing.pem') }), 'NODE_SIGNING_KEY', /cannot be read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts a PEM written on one line with \\n escapes', () => {
    const s = setUpNodeIdentity('principal', 'p1', { ...base, nodeSigningKey: pair.privatePem.trim().replace(/\n/g, '\\n') });
    assert.equal(s.issue!.signer.kid, pair.kid);
  });

  describe('refusals', () => {
    it('refuses a principal without a signing key', () => {
      assertConfigError(() => setUpNodeIdentity('principal', 'p1', { ...base, nodeSigningKey: '' }), 'NODE_SIGNING_KEY');
    });

    it('refuses an Ed25519, a P-384 and a short RSA signing key, naming the key', () => {
      const keys = [
        pemOf(generateKeyPairSync('ed25519').privateKey, 'pkcs8'),
        pemOf(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'pkcs8'),
        pemOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, 'pkcs8'),
      ];
      for (const k of keys) assertConfigError(() => setUpNodeIdentity('principal', 'p1', { ...base, nodeSigningKey: k }), 'NODE_SIGNING_KEY', /EC P-256/);
    });

    it('refuses a public key as signing key and a private key or junk as public key', () => {
      assertConfigError(() => setUpNodeIdentity('principal', 'p1', { ...base, nodeSigningKey: pair.publicPem }), 'NODE_SIGNING_KEY');
      assertConfigError(() => setUpNodeIdentity('ki', 'k', { ...base, nodeTokenPublicKeys: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }), 'NODE_TOKEN_PUBLIC_KEYS');
      assertConfigError(() => setUpNodeIdentity('principal', 'p1', { ...base, nodeTokenExtraPublicKeys: pemOf(generateKeyPairSync('ed25519').publicKey, 'spki') }), 'NODE_TOKEN_EXTRA_PUBLIC_KEYS');
    });

    it('refuses a principal whose pinned keys leave out its own signing key', () => {
      assertConfigError(() => setUpNodeIdentity('principal', 'p1', { ...base, nodeTokenPublicKeys: generateNodeKeyPair().publicPem }), 'NODE_TOKEN_PUBLIC_KEYS');
    });
  });

  describe('production config in issued mode', () => {
    const strong = () => 'x'.repeat(20) + Math.random().toString(36).repeat(4);
    const prod = { NODE_ENV: 'production', NODE_TOKEN_MODE: 'issued', JWT_AUDIENCE: 'an-ki', JWT_ISSUER: 'https://idp.example', JWT_SECRET_KEY: strong(), AES_KEYS: `prod1:${Buffer.alloc(32, 7).toString('base64')}`, JOIN_SECRET: strong() };
    const load = (env: Record<string, string>, role: 'principal' | 'an' | 'ki') => () => loadConfig({ env: { ...prod, ...env }, role });

    it('refuses a principal without a signing key', () => assertConfigError(load({ JOIN_SECRET_AN: strong(), JOIN_SECRET_KI: strong() }, 'principal'), 'NODE_SIGNING_KEY'));
    it('refuses per-role join secrets derived from JOIN_SECRET', () => {
      assertConfigError(load({ NODE_SIGNING_KEY: pair.privatePem, JOIN_SECRET_KI: strong() }, 'principal'), 'JOIN_SECRET_AN');
      assertConfigError(load({}, 'ki'), 'JOIN_SECRET_KI');
      assertConfigError(load({}, 'an'), 'JOIN_SECRET_AN');
    });
    it('refuses a short join secret', () => assertConfigError(load({ JOIN_SECRET_KI: 'short' }, 'ki'), 'JOIN_SECRET_KI', /shorter/));
    it('lets a Ki start with only its own join secret (no JWT or JOIN_SECRET)', () => {
      const c = loadConfig({ env: { NODE_ENV: 'production', NODE_TOKEN_MODE: 'issued', AES_KEYS: prod.AES_KEYS, JOIN_SECRET_KI: strong() }, role: 'ki' });
      assert.equal(c.security.nodeTokenMode, 'issued');
    });
    it('loads a principal with a signing key and both join secrets', () => {
      assert.doesNotThrow(load({ NODE_SIGNING_KEY: pair.privatePem, JOIN_SECRET_AN: strong(), JOIN_SECRET_KI: strong() }, 'principal'));
    });
    it('still refuses the development JWT secret on a principal', () => {
      assertConfigError(load({ JWT_SECRET_KEY: '', NODE_SIGNING_KEY: pair.privatePem, JOIN_SECRET_AN: strong(), JOIN_SECRET_KI: strong() }, 'principal'), 'JWT_SECRET_KEY');
    });
  });
});
