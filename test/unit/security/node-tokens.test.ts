import { strict as assert } from 'node:assert';
import jwt from 'jsonwebtoken';
import { mintClientToken } from '../../../src/security/client-tokens';
import { derive } from '../../../src/security/key-ring';
import { NodeTokenAuthority, OwnToken } from '../../../src/security/node-tokens';
import type { NodeRole } from '../../../src/security/permissions';
import { JWT_SECRET } from './fixtures';

const authority = (options: { ttlSec?: number; clockToleranceSec?: number; maxCached?: number } = {}) =>
  new NodeTokenAuthority(JWT_SECRET, { ttlSec: options.ttlSec ?? 3600, clockToleranceSec: options.clockToleranceSec ?? 0, ...(options.maxCached ? { maxCached: options.maxCached } : {}) });

const nowSec = () => Math.floor(Date.now() / 1000);

/** Changes one character of the signature part. */
function tamperSignature(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const flipped = s[0] === 'A' ? `B${s.slice(1)}` : `A${s.slice(1)}`;
  return `${h}.${p}.${flipped}`;
}

describe('NodeTokenAuthority', () => {
  it('verifies what it signed and returns subject, role and group', () => {
    const a = authority();
    const claims = a.verify(a.sign({ sub: 'ki-7', role: 'ki', group: 'gpu-a' }));
    assert.equal(claims.sub, 'ki-7');
    assert.equal(claims.role, 'ki');
    assert.equal(claims.group, 'gpu-a');
    assert.ok(claims.exp > nowSec());
  });

  it('leaves the group out when the node has none', () => {
    const a = authority();
    assert.equal('group' in a.verify(a.sign({ sub: 'principal-1', role: 'principal' })), false);
  });

  it('returns the cached claims when the same token is verified again', () => {
    const a = authority();
    const token = a.sign({ sub: 'an-1', role: 'an' });
    const first = a.verify(token);
    const second = a.verify(token);
    assert.equal(second, first);
  });

  it('refuses a token with a tampered signature', () => {
    const a = authority();
    const token = a.sign({ sub: 'an-1', role: 'an' });
    a.verify(token);
    assert.throws(() => a.verify(tamperSignature(token)), /invalid signature/);
  });

  it('refuses a token whose claims were changed after signing', () => {
    const a = authority();
    const [h, , s] = a.sign({ sub: 'ki-1', role: 'ki' }).split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ role: 'principal', sub: 'ki-1', aud: 'anki-node', exp: nowSec() + 600 })).toString('base64url');
    assert.throws(() => a.verify(`${h}.${forged}.${s}`));
  });

  it('refuses a token once it has expired, including one it had cached', () => {
    const a = authority({ ttlSec: 1, clockToleranceSec: 0 });
    const token = a.sign({ sub: 'an-1', role: 'an' });
    const claims = a.verify(token);
    assert.equal(claims.sub, 'an-1');
    assert.throws(() => a.verify(token, claims.exp + 1), /expired/);
  });

  it('tolerates the configured clock skew after expiry', () => {
    const a = authority({ ttlSec: 1, clockToleranceSec: 5 });
    const token = a.sign({ sub: 'an-1', role: 'an' });
    const exp = (jwt.decode(token) as { exp: number }).exp;
    assert.equal(a.verify(token, exp + 4).sub, 'an-1');
    assert.throws(() => authority({ clockToleranceSec: 5 }).verify(token, exp + 6), /expired/);
  });

  it('does not accept a client token signed with the raw JWT secret', () => {
    const client = mintClientToken(JWT_SECRET, { sub: 'an-1', role: 'admin' });
    assert.throws(() => authority().verify(client));
    const clientWithNodeShape = jwt.sign({ role: 'an' }, JWT_SECRET, { algorithm: 'HS256', subject: 'an-1', audience: 'anki-node', expiresIn: 600 });
    assert.throws(() => authority().verify(clientWithNodeShape), /invalid signature/);
  });

  it('refuses a token with the derived key but without the node audience', () => {
    const key = derive(JWT_SECRET, 'anki/node-token/hs256');
    const token = jwt.sign({ role: 'an' }, key, { algorithm: 'HS256', subject: 'an-1', expiresIn: 600 });
    assert.throws(() => authority().verify(token), /audience/);
  });

  it('refuses a token with the derived key but with a role that is not a node role', () => {
    const key = derive(JWT_SECRET, 'anki/node-token/hs256');
    const token = jwt.sign({ role: 'admin' }, key, { algorithm: 'HS256', subject: 'an-1', audience: 'anki-node', expiresIn: 600 });
    assert.throws(() => authority().verify(token), /node role/);
  });

  it('refuses an unsigned token', () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ sub: 'an-1', role: 'an', aud: 'anki-node', exp: nowSec() + 600 })).toString('base64url');
    assert.throws(() => authority().verify(`${header}.${body}.`));
  });

  it('keeps working when its cache is full', () => {
    const a = authority({ maxCached: 2 });
    const tokens = ['an-1', 'an-2', 'an-3', 'an-4'].map((sub) => a.sign({ sub, role: 'an' }));
    for (const t of tokens) a.verify(t);
    assert.deepEqual(tokens.map((t) => a.verify(t).sub), ['an-1', 'an-2', 'an-3', 'an-4']);
  });
});

describe('OwnToken', () => {
  class CountingAuthority extends NodeTokenAuthority {
    signed = 0;
    override sign(claims: { sub: string; role: NodeRole; group?: string }, ttlSec?: number): string {
      this.signed++;
      return super.sign(claims, ttlSec);
    }
  }

  it('signs a token once and renews it at half its lifetime', () => {
    const a = new CountingAuthority(JWT_SECRET, { ttlSec: 100, clockToleranceSec: 0 });
    const own = new OwnToken(a, { sub: 'an-1', role: 'an' }, 100);
    const t0 = 1_000_000;
    const token = own.get(t0);
    assert.equal(own.get(t0 + 49_999), token);
    assert.equal(a.signed, 1);
    own.get(t0 + 50_000);
    assert.equal(a.signed, 2);
    assert.equal(a.verify(own.get(t0 + 50_001)).sub, 'an-1');
  });
});
