import { strict as assert } from 'node:assert';
import { createCipheriv, randomBytes } from 'node:crypto';
import { MessageRejectedError, type RejectReason } from '../../../src/errors';
import type { MessageOf } from '../../../src/protocol/messages';
import { EnvelopeCodec, type WireMessage } from '../../../src/security/envelope';
import { parseKeyRing } from '../../../src/security/key-ring';
import { ReplayGuard } from '../../../src/security/replay-guard';
import { setUpNodeIdentity, type IdentitySettings } from '../../../src/security/identity-setup';
import { generateNodeKeyPair } from '../../../src/security/node-keys';
import { PopKeyPair } from '../../../src/security/pop-key';
import { KEY_1, heartbeatPayload } from './fixtures';

/** Seals a body by hand, as a node with the AES key could, whatever the codec would put in it; signed with `pop`. */
function sealRaw(type: string, sender: string, plain: { token: string; payload: unknown }, pop: PopKeyPair): WireMessage {
  const key = parseKeyRing(`k1:${KEY_1}`).current;
  const head = { id: randomBytes(16).toString('base64url'), type, sender, timestampMs: Date.now(), kid: key.id };
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.secret, nonce, { authTagLength: 16 });
  const aad = Buffer.from(`${head.id}|${head.type}|${head.sender}|${head.timestampMs}|${head.kid}`);
  cipher.setAAD(aad);
  const body = Buffer.concat([nonce, cipher.update(JSON.stringify(plain), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { ...head, body, sig: pop.signMessage(aad, body) };
}

const pair = generateNodeKeyPair();
const settings: IdentitySettings = {
  jwtSecret: 'unused-in-issued-mode-0123456789abcdef-0123456789', joinSecret: 'unit-join-secret-0123456789abcdef-0123', joinSecretAn: '', joinSecretKi: '',
  nodeTokenMode: 'issued', nodeSigningKey: pair.privatePem, nodeTokenPublicKeys: '', nodeTokenExtraPublicKeys: '', nodeTokenTtlSec: 60, clockToleranceSec: 5,
};

function identityOf(nodeId: string, role: 'principal' | 'ki'): { codec: EnvelopeCodec; pop: PopKeyPair } {
  const id = setUpNodeIdentity(role, nodeId, role === 'ki' ? { ...settings, nodeSigningKey: '' } : settings);
  const pop = id.pop!;
  return { pop, codec: new EnvelopeCodec({ nodeId, keys: parseKeyRing(`k1:${KEY_1}`), tokens: id.verifier, ownToken: id.ownToken, replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20, pop }) };
}
const codecOf = (nodeId: string, role: 'principal' | 'ki'): EnvelopeCodec => identityOf(nodeId, role).codec;

function assertRejected(open: () => unknown, reason: RejectReason): void {
  assert.throws(open, (err: unknown) => err instanceof MessageRejectedError && err.reason === reason);
}

const ki1 = identityOf('ki-1', 'ki');
const join = (id = 'ki-1', popKey = ki1.pop.jwk): MessageOf<'node.join'> => ({ v: 1, id, role: 'ki', instance: 'instance-0123456789ab', nonce: 'nonce-0123456789abcdef', popKey, proof: 'A'.repeat(43) });

describe('EnvelopeCodec: the token-less join', () => {
  const principal = codecOf('p1', 'principal');

  it('seals a join without a token before the node is admitted, and opens it with the role the join names', () => {
    const opened = principal.open(ki1.codec.seal('node.join', join()));
    assert.equal(opened.senderRole, 'ki');
    assert.equal(opened.sender, 'ki-1');
  });

  it('seals nothing else before the node is admitted', () => {
    assert.throws(() => codecOf('ki-1', 'ki').seal('node.heartbeat', heartbeatPayload('ki-1', 'ki')), /not been admitted/);
  });

  it('refuses a join that names another node than its sender', () => {
    assertRejected(() => principal.open(codecOf('ki-1', 'ki').seal('node.join', join('ki-9'))), 'sender');
  });

  it('refuses a join that carries a token', () => {
    const wire = sealRaw('node.join', 'ki-1', { token: 'a.b.c', payload: join() }, ki1.pop);
    assertRejected(() => principal.open(wire), 'token');
    assert.equal(principal.open(sealRaw('node.join', 'ki-1', { token: '', payload: join() }, ki1.pop)).senderRole, 'ki', 'the same join without the token opens');
  });

  it('refuses a join not signed by the key it offers', () => {
    assertRejected(() => principal.open(sealRaw('node.join', 'ki-1', { token: '', payload: join() }, new PopKeyPair())), 'pop');
    assertRejected(() => principal.open({ ...ki1.codec.seal('node.join', join()), sig: undefined }), 'pop');
    assertRejected(() => principal.open(ki1.codec.seal('node.join', join('ki-1', new PopKeyPair().jwk))), 'pop');
    assertRejected(() => principal.open(ki1.codec.seal('node.join', join('ki-1', { ...ki1.pop.jwk, y: 'A'.repeat(43) }))), 'pop');
  });

  it('refuses any other message without a token', () => {
    const tokenless = new EnvelopeCodec({ nodeId: 'ki-1', keys: parseKeyRing(`k1:${KEY_1}`), tokens: { verify: () => { throw new Error('x'); } }, ownToken: { get: () => '' }, replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20, pop: ki1.pop });
    assertRejected(() => principal.open(tokenless.seal('node.heartbeat', heartbeatPayload('ki-1', 'ki'))), 'token');
  });

  it('refuses a join of a role that does not join (principal)', () => {
    const wire = codecOf('ki-1', 'ki').seal('node.join', { ...join(), role: 'principal' } as unknown as MessageOf<'node.join'>);
    assertRejected(() => principal.open(wire), 'schema');
  });
});
