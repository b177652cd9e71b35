import { strict as assert } from 'node:assert';
import { identityProof, joinProof, joinSecretFor, proofMatches } from '../../../src/security/join-proof';
import { PopKeyPair } from '../../../src/security/pop-key';

const settings = { joinSecret: 'a-join-secret-that-is-long-enough-0123456789', joinSecretAn: '', joinSecretKi: '' };
const join = { id: 'ki-1', role: 'ki' as const, instance: 'inst-0123456789abcdef', nonce: 'nonce-0123456789abcdef', timestampMs: 1_700_000_000_000, popKey: new PopKeyPair().jwk };
const reply = { id: 'ki-1', instance: join.instance, nonce: join.nonce, token: 'header.body.signature', kids: ['kid-a', 'kid-b'] };

describe('join proofs', () => {
  const ki = joinSecretFor('ki', settings);
  const an = joinSecretFor('an', settings);

  it('derives a different secret per role from JOIN_SECRET, and uses a configured one as is', () => {
    assert.notDeepEqual(ki, an);
    assert.equal(ki.length, 32);
    assert.deepEqual(joinSecretFor('ki', { ...settings, joinSecretKi: 'explicit' }), Buffer.from('explicit'));
    assert.deepEqual(joinSecretFor('an', { ...settings, joinSecretKi: 'explicit' }), an);
  });

  it('accepts a join proof made with the role secret', () => {
    assert.equal(proofMatches(joinProof(ki, join), joinProof(joinSecretFor('ki', settings), join)), true);
    assert.match(joinProof(ki, join), /^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a join proof made with a wrong secret or the other role secret', () => {
    const expected = joinProof(ki, join);
    assert.equal(proofMatches(expected, joinProof(Buffer.from('wrong'), join)), false);
    assert.equal(proofMatches(expected, joinProof(an, join)), false);
    assert.equal(proofMatches(expected, joinProof(joinSecretFor('ki', { ...settings, joinSecret: 'another-join-secret-0123456789-abcdef' }), join)), false);
  });

  it('refuses a join proof when any covered field changed', () => {
    const expected = joinProof(ki, join);
    for (const change of [{ id: 'ki-2' }, { role: 'an' as const }, { instance: 'inst-other-0123456789' }, { nonce: 'nonce-other-0123456789' }, { timestampMs: join.timestampMs + 1 }, { popKey: new PopKeyPair().jwk }]) {
      assert.equal(proofMatches(expected, joinProof(ki, { ...join, ...change })), false, JSON.stringify(change));
    }
  });

  it('binds the identity reply to the token, the key ids and the join it answers', () => {
    const expected = identityProof(ki, reply);
    assert.equal(proofMatches(expected, identityProof(ki, { ...reply })), true);
    for (const change of [{ token: 'header.body.other' }, { kids: ['kid-a'] }, { kids: ['kid-b', 'kid-a'] }, { nonce: 'nonce-x-0123456789abcd' }, { instance: 'inst-x-0123456789abcd' }, { id: 'ki-2' }]) {
      assert.equal(proofMatches(expected, identityProof(ki, { ...reply, ...change })), false, JSON.stringify(change));
    }
    assert.equal(proofMatches(expected, identityProof(an, reply)), false);
  });

  it('compares proofs of different lengths without throwing', () => {
    assert.equal(proofMatches(joinProof(ki, join), 'short'), false);
  });
});
