import { strict as assert } from 'node:assert';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ClientTokenVerifier, InvalidTokenError, mintClientToken, resolveClientHs256, type ClientTokenOptions } from '../../../src/security/client-tokens';
import { JwksKeySource, JwksUnavailableError } from '../../../src/security/jwks';
import { NodeTokenAuthority } from '../../../src/security/node-tokens';
import { JWT_SECRET, OTHER_JWT_SECRET } from './fixtures';

const verifier = (o: Partial<ClientTokenOptions> = {}) =>
  new ClientTokenVerifier({ secret: JWT_SECRET, algorithms: ['HS256'], clockToleranceSec: 5, ...o });

const nowSec = () => Math.floor(Date.now() / 1000);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A JWT assembled by hand: any header, any claims, an HMAC-SHA256 signature with any key text. */
function handmade(header: Record<string, unknown>, claims: Record<string, unknown>, hmacKey?: string): string {
  const signingInput = `${b64(header)}.${b64(claims)}`;
  const signature = hmacKey === undefined ? '' : createHmac('sha256', hmacKey).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

const refused = (fn: () => unknown, pattern?: RegExp) =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidTokenError, `expected InvalidTokenError, got ${String(err)}`);
    assert.equal(err.code, 'INVALID_TOKEN');
    if (pattern) assert.match(err.message, pattern);
    return true;
  });

describe('ClientTokenVerifier', () => {
  it('turns a valid HS256 token into the caller with its subject and role', () => {
    const token = mintClientToken(JWT_SECRET, { sub: 'alice', role: 'submitter' });
    assert.deepEqual(verifier().verify(token), { sub: 'alice', roles: ['submitter'], tenant: 'alice' });
  });

  it('reads a roles array claim and keeps only the known roles', () => {
    const token = mintClientToken(JWT_SECRET, { sub: 'bob', role: ['viewer', 'operator'] });
    assert.deepEqual(verifier().verify(token), { sub: 'bob', roles: ['viewer', 'operator'], tenant: 'bob' });
    const mixed = jwt.sign({ roles: ['viewer', 'root', 42] }, JWT_SECRET, { subject: 'bob', expiresIn: 60 });
    assert.deepEqual(verifier().verify(mixed).roles, ['viewer']);
  });

  it('takes the tenant from the tenant claim, and refuses one that is not plain text', () => {
    const token = mintClientToken(JWT_SECRET, { sub: 'alice', role: 'submitter', tenant: 'vision-team' });
    assert.deepEqual(verifier().verify(token), { sub: 'alice', roles: ['submitter'], tenant: 'vision-team' });
    for (const tenant of [42, '', 'a\u0000b', 'x'.repeat(129), ['team']]) {
      refused(() => verifier().verify(jwt.sign({ role: 'submitter', tenant }, JWT_SECRET, { subject: 'eve', expiresIn: 60 })), /tenant claim/);
    }
  });

  it('refuses a token without any known role', () => {
    refused(() => verifier().verify(jwt.sign({ role: 'root' }, JWT_SECRET, { subject: 'eve', expiresIn: 60 })), /no known role/);
    refused(() => verifier().verify(jwt.sign({}, JWT_SECRET, { subject: 'eve', expiresIn: 60 })), /no known role/);
    refused(() => verifier().verify(jwt.sign({ roles: [] }, JWT_SECRET, { subject: 'eve', expiresIn: 60 })), /no known role/);
  });

  it('refuses a token without a subject', () => {
    refused(() => verifier().verify(jwt.sign({ role: 'admin' }, JWT_SECRET, { expiresIn: 60 })), /subject/);
  });

  it('refuses a subject with a control character or a lone surrogate, and keeps one with paired surrogates (an emoji)', () => {
    refused(() => verifier().verify(jwt.sign({ role: 'viewer' }, JWT_SECRET, { subject: 'eve\u0007', expiresIn: 60 })), /subject/);
    refused(() => verifier().verify(jwt.sign({ role: 'viewer' }, JWT_SECRET, { subject: 'eve\ud800', expiresIn: 60 })), /subject/);
    refused(() => verifier().verify(jwt.sign({ role: 'viewer' }, JWT_SECRET, { subject: '\udc00eve', expiresIn: 60 })), /subject/);
    assert.equal(verifier().verify(mintClientToken(JWT_SECRET, { sub: 'r\u00e9mi-\u{1F600}', role: 'viewer' })).sub, 'r\u00e9mi-\u{1F600}');
  });

  it('refuses an unsigned token with alg none, even when none is configured', () => {
    const token = handmade({ alg: 'none', typ: 'JWT' }, { sub: 'mallory', role: 'admin', exp: nowSec() + 600 });
    refused(() => verifier().verify(token));
    refused(() => verifier({ algorithms: ['none', 'HS256'] }).verify(token));
  });

  it('refuses a token signed with another secret', () => {
    refused(() => verifier().verify(mintClientToken(OTHER_JWT_SECRET, { sub: 'alice', role: 'admin' })), /signature/);
  });

  it('refuses a token whose payload was altered after signing', () => {
    const [h, , s] = mintClientToken(JWT_SECRET, { sub: 'alice', role: 'viewer' }).split('.') as [string, string, string];
    refused(() => verifier().verify(`${h}.${b64({ sub: 'alice', role: 'admin', exp: nowSec() + 600 })}.${s}`));
  });

  it('refuses an expired token beyond the clock tolerance and accepts one within it', () => {
    const expired = jwt.sign({ role: 'admin', exp: nowSec() - 60 }, JWT_SECRET, { subject: 'alice' });
    refused(() => verifier().verify(expired), /expired/);
    const justExpired = jwt.sign({ role: 'admin', exp: nowSec() - 1 }, JWT_SECRET, { subject: 'alice' });
    assert.equal(verifier({ clockToleranceSec: 30 }).verify(justExpired).sub, 'alice');
  });

  it('refuses a token signed with an algorithm outside the allowlist', () => {
    const hs512 = mintClientToken(JWT_SECRET, { sub: 'alice', role: 'admin', algorithm: 'HS512' });
    refused(() => verifier({ algorithms: ['HS256'] }).verify(hs512));
    assert.equal(verifier({ algorithms: ['HS256', 'HS512'] }).verify(hs512).sub, 'alice');
  });

  it('checks the audience when one is configured', () => {
    const v = verifier({ audience: 'anki-api' });
    assert.equal(v.verify(mintClientToken(JWT_SECRET, { sub: 'a', role: 'viewer', audience: 'anki-api' })).sub, 'a');
    refused(() => v.verify(mintClientToken(JWT_SECRET, { sub: 'a', role: 'viewer', audience: 'other-api' })), /audience/);
    refused(() => v.verify(mintClientToken(JWT_SECRET, { sub: 'a', role: 'viewer' })), /audience/);
  });

  it('checks the issuer when one is configured', () => {
    const v = verifier({ issuer: 'https://idp.example' });
    assert.equal(v.verify(mintClientToken(JWT_SECRET, { sub: 'a', role: 'viewer', issuer: 'https://idp.example' })).sub, 'a');
    refused(() => v.verify(mintClientToken(JWT_SECRET, { sub: 'a', role: 'viewer', issuer: 'https://evil.example' })), /issuer/);
    refused(() => v.verify(mintClientToken(JWT_SECRET, { sub: 'a', role: 'viewer' })), /issuer/);
  });

  it('does not check audience or issuer when none is configured', () => {
    const token = mintClientToken(JWT_SECRET, { sub: 'a', role: 'viewer', audience: 'x', issuer: 'y' });
    assert.equal(verifier().verify(token).sub, 'a');
  });

  it('does not accept a node token as a client token', () => {
    const node = new NodeTokenAuthority(JWT_SECRET, { ttlSec: 600, clockToleranceSec: 0 }).sign({ sub: 'principal-1', role: 'principal' });
    refused(() => verifier().verify(node));
  });

  describe('with a PEM public key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

    it('accepts an RS256 token signed with the matching private key', () => {
      const token = jwt.sign({ role: 'operator' }, rsa.privateKey, { algorithm: 'RS256', subject: 'ops', expiresIn: 60 });
      assert.deepEqual(verifier({ secret: rsa.publicKey, algorithms: ['RS256'] }).verify(token), { sub: 'ops', roles: ['operator'], tenant: 'ops' });
    });

    it('accepts an ES256 token signed with the matching EC private key', () => {
      const token = jwt.sign({ role: 'viewer' }, ec.privateKey, { algorithm: 'ES256', subject: 'v', expiresIn: 60 });
      assert.equal(verifier({ secret: ec.publicKey, algorithms: ['ES256'] }).verify(token).sub, 'v');
    });

    it('refuses an HS256 token that uses the RSA public key text as HMAC secret', () => {
      const forged = handmade({ alg: 'HS256', typ: 'JWT' }, { sub: 'mallory', role: 'admin', exp: nowSec() + 600 }, rsa.publicKey);
      refused(() => verifier({ secret: rsa.publicKey, algorithms: ['HS256', 'RS256'] }).verify(forged));
    });

    it('refuses an HS256 token that uses the EC public key text as HMAC secret', () => {
      const forged = handmade({ alg: 'HS256', typ: 'JWT' }, { sub: 'mallory', role: 'admin', exp: nowSec() + 600 }, ec.publicKey);
      refused(() => verifier({ secret: ec.publicKey, algorithms: ['HS256', 'ES256'] }).verify(forged));
    });

    it('refuses to start with a PEM key and only HMAC algorithms allowed', () => {
      assert.throws(() => verifier({ secret: rsa.publicKey, algorithms: ['HS256', 'HS512'] }), /no usable JWT algorithm/);
    });

    it('refuses an RS256 token when the configured key is an HMAC secret', () => {
      const token = jwt.sign({ role: 'admin' }, rsa.privateKey, { algorithm: 'RS256', subject: 'ops', expiresIn: 60 });
      refused(() => verifier({ algorithms: ['HS256'] }).verify(token));
      assert.throws(() => verifier({ algorithms: ['RS256'] }), /no usable JWT algorithm/);
    });
  });
});

describe('ClientTokenVerifier with an identity provider\'s JWK set', () => {
  const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...idp.publicKey.export({ format: 'jwk' }), kid: 'idp-1', use: 'sig' };
  let fetches = 0;
  let down = false;
  const source = () => new JwksKeySource({
    url: 'https://idp.example/jwks.json', minRefreshIntervalMs: 0,
    fetch: async () => {
      fetches++;
      if (down) throw new Error('connect ECONNREFUSED');
      const body = JSON.stringify({ keys: [jwk] });
      return { ok: true, status: 200, text: async () => body };
    },
  });
  const withJwks = (o: Partial<ClientTokenOptions> = {}) => verifier({ jwks: { source: source(), algorithms: ['ES256'] }, ...o });
  const es256 = (key = idp.privateKey, o: jwt.SignOptions = {}) => jwt.sign({ role: 'submitter' }, key, { algorithm: 'ES256', keyid: 'idp-1', subject: 'carol', expiresIn: 60, ...o });
  const refusedAsync = async (p: Promise<unknown>, pattern: RegExp) => assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InvalidTokenError, `expected InvalidTokenError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
  beforeEach(() => { fetches = 0; down = false; });

  it('accepts a token the provider signed, and still the HS256 tokens of the configured secret', async () => {
    const v = withJwks();
    assert.deepEqual(await v.authenticate(es256()), { sub: 'carol', roles: ['submitter'], tenant: 'carol' });
    const local = mintClientToken(JWT_SECRET, { sub: 'ops', role: 'operator' });
    assert.deepEqual(await v.authenticate(local), { sub: 'ops', roles: ['operator'], tenant: 'ops' });
  });

  it('refuses a token signed by a key outside the set, and one whose kid the set lacks', async () => {
    const v = withJwks();
    await refusedAsync(v.authenticate(es256(stranger.privateKey)), /signature does not verify/);
    await refusedAsync(v.authenticate(es256(idp.privateKey, { keyid: 'idp-9' })), /no signing key with kid/);
  });

  it('checks audience and issuer on provider tokens too', async () => {
    const v = withJwks({ audience: 'an-ki', issuer: 'https://idp.example' });
    await refusedAsync(v.authenticate(es256()), /audience/);
    assert.equal((await v.authenticate(es256(idp.privateKey, { audience: 'an-ki', issuer: 'https://idp.example' }))).sub, 'carol');
  });

  it('caches a verified provider token, so the provider is asked once', async () => {
    const v = withJwks();
    const token = es256();
    await v.authenticate(token);
    await v.authenticate(token);
    assert.equal(fetches, 1);
  });

  it('says the provider is unavailable (not that the caller is wrong) when the set cannot be fetched', async () => {
    down = true;
    await assert.rejects(withJwks().authenticate(es256()), JwksUnavailableError);
  });

  it('never sends an HS256 token to the set, so a public key cannot serve as an HMAC secret', async () => {
    const forged = handmade({ alg: 'HS256', kid: 'idp-1' }, { sub: 'mallory', role: 'admin', exp: nowSec() + 60 }, JSON.stringify(jwk));
    await refusedAsync(withJwks().authenticate(forged), /signature does not verify/);
    assert.equal(fetches, 0);
  });

  it('refuses a provider token without exp', async () => {
    const noExp = jwt.sign({ role: 'submitter' }, idp.privateKey, { algorithm: 'ES256', keyid: 'idp-1', subject: 'carol' });
    await refusedAsync(withJwks().authenticate(noExp), /no exp/);
  });

  it('accepts only the provider\'s tokens when HMAC tokens are off', async () => {
    const v = withJwks({ hmac: false });
    assert.deepEqual(await v.authenticate(es256()), { sub: 'carol', roles: ['submitter'], tenant: 'carol' });
    await refusedAsync(v.authenticate(mintClientToken(JWT_SECRET, { sub: 'ops', role: 'admin' })), /only tokens of its identity provider/);
  });
});

describe('client token expiry and error texts', () => {
  it('refuses a token without exp, which would never expire', () => {
    refused(() => verifier().verify(jwt.sign({ role: 'admin' }, JWT_SECRET, { subject: 'forever' })), /no exp/);
  });

  it('refuses a token whose exp is not a number', () => {
    refused(() => verifier().verify(handmade({ alg: 'HS256', typ: 'JWT' }, { sub: 'x', role: 'admin', exp: 'never' }, JWT_SECRET)));
  });

  it('answers a forged token with a fixed text, not the token library\'s', () => {
    const forged = mintClientToken(OTHER_JWT_SECRET, { sub: 'mallory', role: 'admin' });
    refused(() => verifier().verify(forged), /^invalid token: the token's signature does not verify$/);
    refused(() => verifier().verify('not.a.jwt'), /^invalid token: the token is malformed or not valid$/);
  });

  it('does not tell the caller which audience or issuer is expected', () => {
    const token = mintClientToken(JWT_SECRET, { sub: 'a', role: 'viewer', audience: 'other', issuer: 'other' });
    assert.throws(() => verifier({ audience: 'secret-audience' }).verify(token), (err: Error) => !err.message.includes('secret-audience') && /audience is not accepted/.test(err.message));
    assert.throws(() => verifier({ issuer: 'secret-issuer' }).verify(token), (err: Error) => !err.message.includes('secret-issuer') && /issuer is not accepted/.test(err.message));
  });

  it('will not start with HMAC tokens off and no JWK set', () => {
    assert.throws(() => verifier({ hmac: false }), /CLIENT_HS256/);
  });

  it('turns HMAC tokens off by default only in production with a JWK set', () => {
    assert.equal(resolveClientHs256('auto', 'production', 'https://idp.example/jwks.json'), false);
    assert.equal(resolveClientHs256('auto', 'production', ''), true);
    assert.equal(resolveClientHs256('auto', 'development', 'https://idp.example/jwks.json'), true);
    assert.equal(resolveClientHs256('on', 'production', 'https://idp.example/jwks.json'), true);
    assert.equal(resolveClientHs256('off', 'development', ''), false);
  });
});
