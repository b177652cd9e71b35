import { strict as assert } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { derive } from '../../../src/security/key-ring';
import { IssuedToken, IssuedTokenSigner, IssuedTokenVerifier } from '../../../src/security/issued-tokens';
import { generateNodeKeyPair, loadSigningKey, verifyKeyFromPem, type SigningKey } from '../../../src/security/node-keys';
import { NODE_TOKEN_AUDIENCE } from '../../../src/security/node-tokens';
import { PopKeyPair } from '../../../src/security/pop-key';

const newSigningKey = (): SigningKey => loadSigningKey(generateNodeKeyPair().privatePem);
const verifierFor = (...keys: SigningKey[]) => new IssuedTokenVerifier({ keys: keys.map((k) => k.publicKey), pinned: true, clockToleranceSec: 0 });
const now = () => Math.floor(Date.now() / 1000);

describe('issued node tokens', () => {
  const key = newSigningKey();
  const signer = new IssuedTokenSigner(key, 600);

  it('signs ES256 with the key thumbprint as kid and verifies the claims', () => {
    const token = signer.sign({ sub: 'ki-1', role: 'ki', group: 'g1', inst: 'instance-0123456789' });
    const header = jwt.decode(token, { complete: true })!.header;
    assert.equal(header.alg, 'ES256');
    assert.equal(header.kid, key.kid);
    const claims = verifierFor(key).verify(token);
    assert.deepEqual({ sub: claims.sub, role: claims.role, group: claims.group, inst: claims.inst }, { sub: 'ki-1', role: 'ki', group: 'g1', inst: 'instance-0123456789' });
    assert.ok(claims.exp > now() + 590 && claims.exp <= now() + 600);
  });

  it('puts the confirmed key in cnf.jwk and hands it out imported with the claims', () => {
    const pop = new PopKeyPair();
    const claims = verifierFor(key).verify(signer.sign({ sub: 'ki-1', role: 'ki', cnf: pop.jwk }));
    assert.deepEqual(claims.cnf, pop.jwk);
    assert.deepEqual(claims.popKey?.export({ format: 'jwk' }), pop.jwk);
    assert.equal(verifierFor(key).verify(signer.sign({ sub: 'ki-1', role: 'ki' })).popKey, undefined, 'no cnf, no key');
  });

  it('refuses a token whose cnf is not a P-256 public key', () => {
    const token = jwt.sign({ role: 'ki', cnf: { jwk: { kty: 'EC', crv: 'P-256', x: 'A'.repeat(43), y: 'A'.repeat(43) } } }, key.privateKey, { algorithm: 'ES256', keyid: key.kid, subject: 'ki-1', audience: NODE_TOKEN_AUDIENCE, expiresIn: 60 });
    assert.throws(() => verifierFor(key).verify(token), /cnf/);
  });

  it('signs RS256 with an RSA key', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsa = loadSigningKey(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    assert.equal(rsa.alg, 'RS256');
    const token = new IssuedTokenSigner(rsa, 60).sign({ sub: 'an-1', role: 'an' });
    assert.equal(jwt.decode(token, { complete: true })!.header.alg, 'RS256');
    assert.equal(verifierFor(rsa).verify(token).role, 'an');
  });

  it('refuses an HS256 token, even one keyed with the public key PEM or the shared-mode key', () => {
    const v = verifierFor(key);
    for (const secret of [key.publicKey.pem, derive('anki-dev-jwt-secret-change-me-0123456789abcdef', 'anki/node-token/hs256')]) {
      const token = jwt.sign({ role: 'principal' }, secret, { algorithm: 'HS256', keyid: key.kid, subject: 'p1', audience: NODE_TOKEN_AUDIENCE, expiresIn: 60 });
      assert.throws(() => v.verify(token), /algorithm HS256/);
    }
  });

  it('refuses an unsigned token (alg none)', () => {
    const token = jwt.sign({ role: 'principal', sub: 'p1', aud: NODE_TOKEN_AUDIENCE, exp: now() + 60 }, '', { algorithm: 'none', keyid: key.kid } as jwt.SignOptions);
    assert.throws(() => verifierFor(key).verify(token));
  });

  it('refuses a token signed by a key it does not know, even when it names a known kid', () => {
    const stranger = newSigningKey();
    const own = new IssuedTokenSigner(stranger, 60).sign({ sub: 'ki-1', role: 'principal' });
    assert.throws(() => verifierFor(key).verify(own), /unknown key/);
    const forged = jwt.sign({ role: 'principal' }, stranger.privateKey, { algorithm: 'ES256', keyid: key.kid, subject: 'ki-1', audience: NODE_TOKEN_AUDIENCE, expiresIn: 60 });
    assert.throws(() => verifierFor(key).verify(forged), /invalid signature/);
  });

  it('refuses a token without kid, with another audience, or expired', () => {
    const v = verifierFor(key);
    assert.throws(() => v.verify(jwt.sign({ role: 'ki' }, key.privateKey, { algorithm: 'ES256', subject: 'k', audience: NODE_TOKEN_AUDIENCE, expiresIn: 60 })), /kid/);
    assert.throws(() => v.verify(jwt.sign({ role: 'ki' }, key.privateKey, { algorithm: 'ES256', keyid: key.kid, subject: 'k', audience: 'anki-client', expiresIn: 60 })), /audience/);
    assert.throws(() => v.verify(signer.sign({ sub: 'k', role: 'ki' }, 60), now() + 120), /expired/);
  });

  it('uses keys offered in a message only while it learns its keys, and never caches what it verified with them', () => {
    const token = signer.sign({ sub: 'p1', role: 'principal' });
    const offered = [{ kid: key.kid, pem: key.publicKey.pem }];
    const learning = new IssuedTokenVerifier({ keys: [], pinned: false, clockToleranceSec: 0 });
    assert.equal(learning.verify(token, now(), offered).sub, 'p1');
    assert.throws(() => learning.verify(token), /unknown key/);
    const pinned = verifierFor(newSigningKey());
    assert.throws(() => pinned.verify(token, now(), offered), /unknown key/);
  });

  it('ignores an offered key whose PEM does not have the offered kid', () => {
    const other = newSigningKey();
    const token = signer.sign({ sub: 'p1', role: 'principal' });
    const learning = new IssuedTokenVerifier({ keys: [], pinned: false, clockToleranceSec: 0 });
    assert.throws(() => learning.verify(token, now(), [{ kid: key.kid, pem: other.publicKey.pem }]), /unknown key/);
  });

  it('adopts an announced key set unless pinned, and drops tokens of a removed key', () => {
    const next = newSigningKey();
    const learning = new IssuedTokenVerifier({ keys: [key.publicKey], pinned: false, clockToleranceSec: 0 });
    const old = signer.sign({ sub: 'an-1', role: 'an' });
    assert.equal(learning.verify(old).sub, 'an-1');
    assert.equal(learning.adopt([next.publicKey]), true);
    assert.throws(() => learning.verify(old), /unknown key/);
    assert.equal(verifierFor(key).adopt([next.publicKey]), false);
  });

  it('hands out no token before the node is admitted', () => {
    const holder = new IssuedToken();
    assert.throws(() => holder.get(), /not been admitted/);
    holder.set('t', 1);
    assert.equal(holder.get(), 't');
  });

  it('names the same key with the same kid from its private and public halves', () => {
    const pair = generateNodeKeyPair();
    assert.equal(loadSigningKey(pair.privatePem).kid, verifyKeyFromPem(pair.publicPem, 'x').kid);
    assert.equal(loadSigningKey(pair.privatePem).kid, pair.kid);
  });
});
