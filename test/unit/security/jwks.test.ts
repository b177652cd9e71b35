import { strict as assert } from 'node:assert';
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ConfigError } from '../../../src/errors';
import { importJwk, jwksAlgorithms, JwksKeySource, JwksTokenError, JwksUnavailableError, verifyWithJwks, type JwksFetch, type JwksKeySourceOptions, type JwksVerifyOptions } from '../../../src/security/jwks';

const JWKS_URL = 'https://idp.example/.well-known/jwks.json';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const publicJwk = (key: KeyObject, extra: Record<string, unknown> = {}) => ({ ...key.export({ format: 'jwk' }), use: 'sig', ...extra });

/** An identity provider in memory: the JWK set it serves can change, and every fetch is counted. */
interface FakeProvider { keys: unknown[]; fetches: number; down: boolean; status: number; fetch: JwksFetch }
function fakeProvider(keys: unknown[]): FakeProvider {
  const p: FakeProvider = {
    keys,
    fetches: 0,
    down: false,
    status: 200,
    fetch: async (url) => {
      p.fetches++;
      assert.equal(url, JWKS_URL);
      if (p.down) throw new Error('connect ECONNREFUSED');
      const body = JSON.stringify({ keys: p.keys });
      return { ok: p.status >= 200 && p.status < 300, status: p.status, text: async () => body };
    },
  };
  return p;
}

function fakeClock(startMs = 1_700_000_000_000) {
  let t = startMs;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

const defaultProviderKeys = () => [publicJwk(rsa.publicKey, { kid: 'rsa-1', alg: 'RS256' }), publicJwk(ec.publicKey, { kid: 'ec-1' })];

function setup(o: { keys?: unknown[]; source?: Partial<JwksKeySourceOptions> } = {}) {
  const provider = fakeProvider(o.keys ?? defaultProviderKeys());
  const clock = fakeClock();
  const source = new JwksKeySource({ url: JWKS_URL, fetch: provider.fetch, now: clock.now, cacheTtlMs: 600_000, minRefreshIntervalMs: 30_000, ...o.source });
  return { provider, clock, source };
}

const OPTIONS: JwksVerifyOptions = { algorithms: ['RS256', 'ES256'], clockToleranceSec: 5 };
const nowSec = () => Math.floor(Date.now() / 1000);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Sign options with the defaults; an option given as undefined is left out (jsonwebtoken refuses undefined values). */
const signOptions = (defaults: jwt.SignOptions, o: jwt.SignOptions) =>
  Object.fromEntries(Object.entries({ ...defaults, ...o }).filter(([, v]) => v !== undefined)) as jwt.SignOptions;
const rs256 = (claims: object = { role: 'admin' }, o: jwt.SignOptions = {}) =>
  jwt.sign(claims, rsa.privateKey, signOptions({ algorithm: 'RS256', keyid: 'rsa-1', subject: 'alice', expiresIn: 60 }, o));
const es256 = (claims: object = { role: 'viewer' }, o: jwt.SignOptions = {}) =>
  jwt.sign(claims, ec.privateKey, signOptions({ algorithm: 'ES256', keyid: 'ec-1', subject: 'vera', expiresIn: 60 }, o));

/** A token assembled by hand: any header, any claims, an HMAC-SHA256 signature with any key text (or none). */
function handmade(header: Record<string, unknown>, claims: Record<string, unknown>, hmacKey?: string): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${hmacKey === undefined ? '' : createHmac('sha256', hmacKey).update(input).digest('base64url')}`;
}

async function refused(p: Promise<unknown>, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof JwksTokenError, `expected JwksTokenError, got ${String(err)}`);
    assert.equal(err.code, 'JWKS_TOKEN_INVALID');
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

describe('verifyWithJwks', () => {
  it('accepts an RS256 token signed by a key of the set', async () => {
    const { source, provider } = setup();
    const payload = await verifyWithJwks(rs256(), source, OPTIONS);
    assert.equal(payload.sub, 'alice');
    assert.equal(payload['role'], 'admin');
    assert.equal(provider.fetches, 1);
  });

  it('accepts an ES256 token signed by a key of the set', async () => {
    const { source } = setup();
    assert.equal((await verifyWithJwks(es256(), source, OPTIONS)).sub, 'vera');
  });

  it('fetches the set once and serves later tokens from the cache', async () => {
    const { source, provider, clock } = setup();
    await verifyWithJwks(rs256(), source, OPTIONS);
    clock.advance(599_000);
    await verifyWithJwks(es256(), source, OPTIONS);
    await verifyWithJwks(rs256(), source, OPTIONS);
    assert.equal(provider.fetches, 1);
  });

  it('shares one fetch between concurrent first verifications', async () => {
    const { source, provider } = setup();
    await Promise.all(Array.from({ length: 20 }, (_, i) => verifyWithJwks(i % 2 ? rs256() : es256(), source, OPTIONS)));
    assert.equal(provider.fetches, 1);
  });

  it('refreshes once for an unknown kid, then refuses it without fetching again', async () => {
    const { source, provider, clock } = setup();
    await verifyWithJwks(rs256(), source, OPTIONS);
    clock.advance(31_000);
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = jwt.sign({ role: 'admin' }, stranger.privateKey, { algorithm: 'RS256', keyid: 'rsa-unknown', subject: 'mallory', expiresIn: 60 });
    await refused(verifyWithJwks(token, source, OPTIONS), /no signing key with kid "rsa-unknown"/);
    assert.equal(provider.fetches, 2, 'one refresh for the unknown kid');
    for (let i = 0; i < 10; i++) await refused(verifyWithJwks(token, source, OPTIONS));
    assert.equal(provider.fetches, 2, 'made-up kids do not make the principal hammer the provider');
  });

  it('picks up a key the provider added after the last fetch', async () => {
    const { source, provider, clock } = setup();
    await verifyWithJwks(rs256(), source, OPTIONS);
    provider.keys = [...defaultProviderKeys(), publicJwk(rsa2.publicKey, { kid: 'rsa-2' })];
    clock.advance(30_000);
    const token = jwt.sign({ role: 'operator' }, rsa2.privateKey, { algorithm: 'RS256', keyid: 'rsa-2', subject: 'ops', expiresIn: 60 });
    assert.equal((await verifyWithJwks(token, source, OPTIONS)).sub, 'ops');
    assert.deepEqual(source.kids.sort(), ['ec-1', 'rsa-1', 'rsa-2']);
  });

  it('stops accepting a key once the provider removed it and the cache expired', async () => {
    const { source, provider, clock } = setup();
    await verifyWithJwks(rs256(), source, OPTIONS);
    provider.keys = [publicJwk(ec.publicKey, { kid: 'ec-1' })];
    clock.advance(600_000);
    await refused(verifyWithJwks(rs256(), source, OPTIONS), /rsa-1/);
    assert.equal((await verifyWithJwks(es256(), source, OPTIONS)).sub, 'vera');
  });

  it('refuses alg none without looking up any key', async () => {
    const { source, provider } = setup();
    for (const alg of ['none', 'None', 'NONE']) {
      await refused(verifyWithJwks(handmade({ alg, kid: 'rsa-1' }, { sub: 'mallory', role: 'admin', exp: nowSec() + 600 }), source, { ...OPTIONS, algorithms: ['none', 'RS256'] }), /alg none/);
    }
    assert.equal(provider.fetches, 0);
  });

  it('refuses HS256 even when it is in the allowlist, including an HMAC keyed with the public key', async () => {
    const { source, provider } = setup();
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const jwkText = JSON.stringify(publicJwk(rsa.publicKey, { kid: 'rsa-1' }));
    for (const secret of [pem, jwkText, 'shared-secret']) {
      const forged = handmade({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' }, { sub: 'mallory', role: 'admin', exp: nowSec() + 600 }, secret);
      await refused(verifyWithJwks(forged, source, { ...OPTIONS, algorithms: ['HS256', 'RS256'] }), /HS256 is not allowed/);
    }
    assert.equal(provider.fetches, 0);
  });

  it('refuses an algorithm the allowlist does not name', async () => {
    const { source } = setup();
    await refused(verifyWithJwks(es256(), source, { ...OPTIONS, algorithms: ['RS256'] }), /ES256 is not allowed/);
    const ps256 = jwt.sign({ role: 'admin' }, rsa2.privateKey, { algorithm: 'PS256', keyid: 'rsa-1', subject: 'a', expiresIn: 60 });
    await refused(verifyWithJwks(ps256, source, OPTIONS), /PS256 is not allowed/);
  });

  it('refuses a token whose alg does not fit the key its kid names', async () => {
    const { source } = setup();
    // The EC key's kid on an RS256 token: no key of that kid verifies RS256.
    const token = jwt.sign({ role: 'admin' }, rsa.privateKey, { algorithm: 'RS256', keyid: 'ec-1', subject: 'mallory', expiresIn: 60 });
    await refused(verifyWithJwks(token, source, OPTIONS), /ec-1/);
  });

  it('refuses a token signed by another key under a known kid', async () => {
    const { source } = setup();
    const token = jwt.sign({ role: 'admin' }, rsa2.privateKey, { algorithm: 'RS256', keyid: 'rsa-1', subject: 'mallory', expiresIn: 60 });
    await refused(verifyWithJwks(token, source, OPTIONS), /signature/);
  });

  it('refuses an expired token beyond the clock tolerance and accepts one within it', async () => {
    const { source } = setup();
    await refused(verifyWithJwks(rs256({ role: 'admin', exp: nowSec() - 60 }, { expiresIn: undefined }), source, OPTIONS), /expired/);
    const justExpired = rs256({ role: 'admin', exp: nowSec() - 2 }, { expiresIn: undefined });
    assert.equal((await verifyWithJwks(justExpired, source, { ...OPTIONS, clockToleranceSec: 30 })).sub, 'alice');
    await refused(verifyWithJwks(rs256(), source, { ...OPTIONS, clockTimestampSec: nowSec() + 3600 }), /expired/);
  });

  it('refuses a token not yet valid', async () => {
    const { source } = setup();
    await refused(verifyWithJwks(rs256({ role: 'admin' }, { notBefore: 3600 }), source, OPTIONS), /not valid yet/);
  });

  it('checks the audience when one is configured', async () => {
    const { source } = setup();
    const o = { ...OPTIONS, audience: 'anki-api' };
    assert.equal((await verifyWithJwks(rs256({ role: 'admin' }, { audience: 'anki-api' }), source, o)).sub, 'alice');
    await refused(verifyWithJwks(rs256({ role: 'admin' }, { audience: 'other-api' }), source, o), /audience/);
    await refused(verifyWithJwks(rs256(), source, o), /audience/);
  });

  it('checks the issuer when one is configured', async () => {
    const { source } = setup();
    const o = { ...OPTIONS, issuer: 'https://idp.example' };
    assert.equal((await verifyWithJwks(es256({ role: 'viewer' }, { issuer: 'https://idp.example' }), source, o)).sub, 'vera');
    await refused(verifyWithJwks(es256({ role: 'viewer' }, { issuer: 'https://evil.example' }), source, o), /issuer/);
    await refused(verifyWithJwks(es256(), source, o), /issuer/);
  });

  it('refuses malformed tokens and critical header extensions', async () => {
    const { source } = setup();
    for (const t of ['', 'abc', 'a.b.c', `${b64({ alg: 'RS256' })}.!!!.x`]) await refused(verifyWithJwks(t, source, OPTIONS));
    const [, p, s] = rs256().split('.') as [string, string, string];
    await refused(verifyWithJwks(`${b64({ alg: 'RS256', kid: 'rsa-1', crit: ['exp'], exp: 1 })}.${p}.${s}`, source, OPTIONS), /critical/);
    await refused(verifyWithJwks(`${b64({ alg: 'RS256', kid: 42 })}.${p}.${s}`, source, OPTIONS), /kid/);
  });

  it('ignores a key embedded in the token header', async () => {
    const { source } = setup();
    const mallory = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = jwt.sign({ role: 'admin' }, mallory.privateKey, {
      algorithm: 'RS256', subject: 'mallory', expiresIn: 60, header: { alg: 'RS256', kid: 'rsa-1', jwk: publicJwk(mallory.publicKey) } as jwt.JwtHeader,
    });
    await refused(verifyWithJwks(token, source, OPTIONS), /signature/);
  });

  it('uses the single fitting key for a token without kid, and refuses when that is ambiguous', async () => {
    const single = setup({ keys: [publicJwk(rsa.publicKey)] });
    assert.equal((await verifyWithJwks(rs256({ role: 'admin' }, { keyid: undefined }), single.source, OPTIONS)).sub, 'alice');
    const two = setup({ keys: [publicJwk(rsa.publicKey, { kid: 'a' }), publicJwk(rsa2.publicKey, { kid: 'b' })] });
    await refused(verifyWithJwks(rs256({ role: 'admin' }, { keyid: undefined }), two.source, OPTIONS), /no kid/);
  });
});

describe('JwksKeySource', () => {
  it('is unavailable (not a token error) when the set was never fetched, and retries only after the interval', async () => {
    const { source, provider, clock } = setup();
    provider.down = true;
    await assert.rejects(verifyWithJwks(rs256(), source, OPTIONS), JwksUnavailableError);
    await assert.rejects(verifyWithJwks(rs256(), source, OPTIONS), JwksUnavailableError);
    assert.equal(provider.fetches, 1);
    provider.down = false;
    clock.advance(30_000);
    assert.equal((await verifyWithJwks(rs256(), source, OPTIONS)).sub, 'alice');
    assert.equal(provider.fetches, 2);
  });

  it('keeps using the keys it holds while the provider is down', async () => {
    const warnings: string[] = [];
    const { source, provider, clock } = setup({ source: { onWarning: (m) => warnings.push(m) } });
    await verifyWithJwks(rs256(), source, OPTIONS);
    provider.down = true;
    clock.advance(700_000);
    assert.equal((await verifyWithJwks(rs256(), source, OPTIONS)).sub, 'alice');
    assert.ok(warnings.some((w) => /stay in use/.test(w)), warnings.join('\n'));
    provider.status = 500;
    provider.down = false;
    clock.advance(30_000);
    assert.equal((await verifyWithJwks(es256(), source, OPTIONS)).sub, 'vera', 'an HTTP error keeps the old keys too');
  });

  it('treats a set without any usable key as a failed fetch', async () => {
    const { source } = setup({ keys: [{ kty: 'oct', kid: 'h', k: 'c2VjcmV0' }] });
    await assert.rejects(source.refresh(), (err: unknown) => err instanceof JwksUnavailableError && /no usable signing key/.test(err.message));
  });

  it('skips symmetric, private, weak, encryption-only and mismatched keys', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const warnings: string[] = [];
    const { source } = setup({
      keys: [
        { kty: 'oct', kid: 'hmac', k: Buffer.from('top-secret-shared-key').toString('base64url') },
        { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'leaked' },
        publicJwk(weak.publicKey, { kid: 'weak' }),
        publicJwk(rsa.publicKey, { kid: 'enc', use: 'enc' }),
        publicJwk(rsa.publicKey, { kid: 'ops', key_ops: ['encrypt'] }),
        publicJwk(rsa.publicKey, { kid: 'mismatch', alg: 'ES256' }),
        publicJwk(ec.publicKey, { kid: 'ec-1' }),
        publicJwk(rsa2.publicKey, { kid: 'ec-1' }),
        'garbage',
      ],
      source: { onWarning: (m) => warnings.push(m) },
    });
    await source.refresh();
    assert.deepEqual(source.kids, ['ec-1']);
    for (const why of ['kty oct', 'private key material', 'shorter than 2048', 'use is enc', 'key_ops lacks verify', 'does not fit', 'repeats', 'not an object']) {
      assert.ok(warnings.some((w) => w.includes(why)), `warned about ${why}: ${warnings.join(' | ')}`);
    }
    const hs = handmade({ alg: 'HS256', kid: 'hmac' }, { sub: 'mallory', role: 'admin', exp: nowSec() + 60 }, 'top-secret-shared-key');
    await refused(verifyWithJwks(hs, source, OPTIONS));
  });

  it('restricts a key that names its alg to that algorithm', () => {
    const k = importJwk(publicJwk(rsa.publicKey, { kid: 'r', alg: 'PS256' }));
    assert.ok(!('skipped' in k));
    assert.deepEqual(k.algorithms, ['PS256']);
    const e = importJwk(publicJwk(ec.publicKey, { kid: 'e' }));
    assert.ok(!('skipped' in e));
    assert.deepEqual(e.algorithms, ['ES256']);
  });

  it('refuses a response larger than the limit', async () => {
    const { source } = setup({ source: { maxBytes: 100 } });
    await assert.rejects(source.refresh(), /larger than 100 bytes/);
  });

  it('passes a timeout signal and refuses redirects', async () => {
    let seen: Parameters<JwksFetch>[1] | undefined;
    const source = new JwksKeySource({
      url: JWKS_URL,
      fetch: async (_url, init) => { seen = init; return { ok: true, status: 200, text: async () => JSON.stringify({ keys: [publicJwk(ec.publicKey, { kid: 'e' })] }) }; },
    });
    await source.refresh();
    assert.ok(seen?.signal instanceof AbortSignal);
    assert.equal(seen?.redirect, 'error');
  });

  it('requires an https URL unless http is allowed', () => {
    assert.throws(() => new JwksKeySource({ url: 'http://idp.example/jwks.json' }), (err: unknown) => err instanceof ConfigError && /JWKS_URL/.test(err.message));
    assert.throws(() => new JwksKeySource({ url: 'not a url' }), ConfigError);
    assert.doesNotThrow(() => new JwksKeySource({ url: 'http://127.0.0.1:8080/jwks.json', allowHttp: true }));
  });
});

describe('jwksAlgorithms', () => {
  it('keeps only asymmetric algorithms and refuses a list without any', () => {
    assert.deepEqual(jwksAlgorithms(['HS256', 'RS256', 'none', 'ES256']), ['RS256', 'ES256']);
    assert.throws(() => jwksAlgorithms(['HS256', 'none']), (err: unknown) => err instanceof ConfigError && /JWKS_ALGORITHMS/.test(err.message));
  });
});
