import { strict as assert } from 'node:assert';
import { createDecipheriv } from 'node:crypto';
import { MessageRejectedError, type RejectReason } from '../../../src/errors';
import { EnvelopeCodec, type WireMessage } from '../../../src/security/envelope';
import { setUpNodeIdentity, type IdentitySettings, type NodeIdentitySetup } from '../../../src/security/identity-setup';
import { parseKeyRing } from '../../../src/security/key-ring';
import { generateNodeKeyPair } from '../../../src/security/node-keys';
import { PopKeyPair } from '../../../src/security/pop-key';
import { ReplayGuard } from '../../../src/security/replay-guard';
import { KEY_1, heartbeatPayload, makeCodec } from './fixtures';

const keys = parseKeyRing(`k1:${KEY_1}`);
const pair = generateNodeKeyPair();
const settings: IdentitySettings = {
  jwtSecret: 'unused-in-issued-mode-0123456789abcdef-0123456789', joinSecret: 'unit-join-secret-0123456789abcdef-0123', joinSecretAn: '', joinSecretKi: '',
  nodeTokenMode: 'issued', nodeSigningKey: pair.privatePem, nodeTokenPublicKeys: '', nodeTokenExtraPublicKeys: '', nodeTokenTtlSec: 60, clockToleranceSec: 5,
};

function codecFor(nodeId: string, id: NodeIdentitySetup, ownToken = id.ownToken, pop = id.pop): EnvelopeCodec {
  return new EnvelopeCodec({ nodeId, keys, tokens: id.verifier, ownToken, replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20, ...(pop ? { pop } : {}) });
}

/** A principal, and a Ki it admitted (its token confirms the Ki's own key, as after a join). */
function cluster() {
  const principalId = setUpNodeIdentity('principal', 'p1', settings);
  const kiId = setUpNodeIdentity('ki', 'ki-1', { ...settings, nodeSigningKey: '' });
  kiId.join!.verifier.adopt(principalId.issue!.announced);
  kiId.join!.token.set(principalId.issue!.signer.sign({ sub: 'ki-1', role: 'ki', inst: 'instance-0123456789ab', cnf: kiId.pop!.jwk }), Date.now() + 60_000);
  return { principalId, kiId, principal: codecFor('p1', principalId), ki: codecFor('ki-1', kiId) };
}

function assertRejected(open: () => unknown, reason: RejectReason): void {
  assert.throws(open, (err: unknown) => err instanceof MessageRejectedError && err.reason === reason, `expected reason ${reason}`);
}

/** What any node holding the AES key can read out of a message: the sender's token. */
function liftToken(m: WireMessage): string {
  const d = createDecipheriv('aes-256-gcm', keys.get(m.kid)!.secret, m.body.subarray(0, 12), { authTagLength: 16 });
  d.setAAD(Buffer.from(`${m.id}|${m.type}|${m.sender}|${m.timestampMs}|${m.kid}`));
  d.setAuthTag(m.body.subarray(m.body.length - 16));
  const plain = JSON.parse(Buffer.concat([d.update(m.body.subarray(12, m.body.length - 16)), d.final()]).toString('utf8')) as { token: string };
  return plain.token;
}

const assign = { v: 1 as const, nodeId: 'ki-2', group: 'evil', term: 999 };

describe('EnvelopeCodec: proof of possession (issued mode)', () => {
  it('signs every message with the sender key, and opens it on both sides', () => {
    const { principal, ki } = cluster();
    const fromKi = ki.seal('node.heartbeat', heartbeatPayload('ki-1', 'ki'));
    assert.equal(fromKi.sig?.length, 64);
    assert.equal(principal.open(fromKi).senderRole, 'ki');
    assert.equal(ki.open(principal.seal('node.assign', { v: 1, nodeId: 'ki-1', group: 'an-1', term: 1 })).senderRole, 'principal');
  });

  it('refuses a lifted principal token in a message signed by another key, with reason pop', () => {
    const { principalId, principal, kiId } = cluster();
    const token = liftToken(principal.seal('node.heartbeat', heartbeatPayload('p1', 'principal')));
    const victimId = setUpNodeIdentity('ki', 'ki-2', { ...settings, nodeSigningKey: '' });
    victimId.join!.verifier.adopt(principalId.issue!.announced);
    const victim = codecFor('ki-2', victimId);
    assert.equal(victim.open(principal.seal('node.assign', { ...assign, group: 'an-1', term: 1 })).sender, 'p1', 'the real principal is obeyed');
    // The Ki seals as p1 with the lifted token: signed with its own key, or a fresh one, or not at all.
    for (const pop of [kiId.pop, new PopKeyPair(), undefined]) {
      const forger = codecFor('p1', kiId, { get: () => token }, pop);
      assertRejected(() => victim.open(forger.seal('node.assign', assign)), 'pop');
    }
  });

  it('refuses a message whose signature is missing, altered, or taken from another message', () => {
    const { principal, ki } = cluster();
    const m = ki.seal('node.heartbeat', heartbeatPayload('ki-1', 'ki'));
    assertRejected(() => principal.open({ ...m, sig: undefined }), 'pop');
    const flipped = Buffer.from(m.sig!);
    flipped[10] = flipped[10]! ^ 1;
    assertRejected(() => principal.open({ ...m, sig: flipped }), 'pop');
    assertRejected(() => principal.open({ ...m, sig: m.sig!.subarray(0, 63) }), 'pop');
    const other = ki.seal('node.heartbeat', heartbeatPayload('ki-1', 'ki'));
    assertRejected(() => principal.open({ ...m, sig: other.sig }), 'pop');
    assert.equal(principal.open(m).sender, 'ki-1', 'the untouched message still opens');
  });

  it('refuses a validly signed node token that confirms no key (a bearer token)', () => {
    const { principalId, kiId, principal } = cluster();
    const bearer = principalId.issue!.signer.sign({ sub: 'ki-1', role: 'ki' });
    assertRejected(() => principal.open(codecFor('ki-1', kiId, { get: () => bearer }).seal('node.heartbeat', heartbeatPayload('ki-1', 'ki'))), 'pop');
  });

  it('imports the confirmed key once per token, not per message', () => {
    const { principalId, ki } = cluster();
    const token = ki.seal('node.heartbeat', heartbeatPayload('ki-1', 'ki'));
    const first = principalId.verifier.verify(liftToken(token));
    assert.ok(first.popKey, 'the claims carry the imported key');
    assert.equal(principalId.verifier.verify(liftToken(token)).popKey, first.popKey, 'the same key object comes from the cache');
  });

  it('shared mode signs nothing and needs no signature', () => {
    const { codec: an } = makeCodec({ nodeId: 'an-1', role: 'an' });
    const { codec: principal } = makeCodec({ nodeId: 'p1', role: 'principal' });
    const m = an.seal('node.heartbeat', heartbeatPayload('an-1', 'an'));
    assert.equal(m.sig, undefined);
    assert.equal(principal.open(m).sender, 'an-1');
  });
});
