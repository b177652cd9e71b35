import { strict as assert } from 'node:assert';
import jwt from 'jsonwebtoken';
import { Membership } from '../../../src/cluster/membership';
import { MessageRejectedError } from '../../../src/errors';
import { silentLogger } from '../../../src/observability/logger';
import { IdentityIssuer } from '../../../src/principal/identity-issuer';
import type { Destination } from '../../../src/protocol/destinations';
import type { MessageOf } from '../../../src/protocol/messages';
import { topologyNames } from '../../../src/protocol/names';
import { joinProof, setUpNodeIdentity, type OpenedMessage } from '../../../src/security';
import { joinSecretFor } from '../../../src/security/join-proof';
import type { IdentitySettings } from '../../../src/security/identity-setup';
import { generateNodeKeyPair } from '../../../src/security/node-keys';
import { PopKeyPair } from '../../../src/security/pop-key';
import type { MessageBus } from '../../../src/transport';
import { FakeLeadership, heartbeat, until } from './principal-harness';

const names = topologyNames('unitissuer');
const JOIN_SECRET = 'unit-issuer-join-secret-0123456789abcdef';
const settings: IdentitySettings = {
  jwtSecret: 'unused-in-issued-mode-0123456789abcdef-0123456789', joinSecret: JOIN_SECRET, joinSecretAn: '', joinSecretKi: '',
  nodeTokenMode: 'issued', nodeSigningKey: generateNodeKeyPair().privatePem, nodeTokenPublicKeys: '', nodeTokenExtraPublicKeys: '', nodeTokenTtlSec: 60, clockToleranceSec: 5,
};
const issue = setUpNodeIdentity('principal', 'p1', settings).issue!;
const pop = new PopKeyPair();

/** A join of `id` as a Ki, with the right proof unless `secret` says otherwise. */
function join(id: string, instance = 'instance-0123456789ab', secret = JOIN_SECRET): OpenedMessage<'node.join'> {
  const timestampMs = Date.now();
  const base = { v: 1 as const, id, role: 'ki' as const, instance, nonce: 'nonce-0123456789abcdef', popKey: pop.jwk };
  const proof = joinProof(joinSecretFor('ki', { ...settings, joinSecret: secret }), { ...base, timestampMs });
  return { id: 'm1', type: 'node.join', sender: id, senderRole: 'ki', timestampMs, payload: { ...base, proof } };
}

describe('IdentityIssuer', () => {
  let leadership: FakeLeadership;
  let membership: Membership;
  let sent: { queue: string; payload: MessageOf<'node.identity'>; expirationMs: number | undefined }[];
  const bus = { send: (destination: Destination<'node.identity'>, _type: string, payload: MessageOf<'node.identity'>, options?: { expirationMs?: number }) => {
    sent.push({ queue: (destination.target as { queue: string }).queue, payload, expirationMs: options?.expirationMs });
    return Promise.resolve();
  } } as unknown as MessageBus;
  const issuer = (over: { answerFromMs?: number } = {}) => new IdentityIssuer({
    bus, names, leadership, membership, issue, log: silentLogger(), groupOf: () => 'an-1', answerFromMs: over.answerFromMs ?? 0, replyExpirationMs: 1234,
  });

  beforeEach(() => {
    leadership = new FakeLeadership();
    membership = new Membership({ suspectAfterMs: 1000, deadAfterMs: 2500, removeAfterMs: 60_000 });
    sent = [];
  });

  it('answers a proven join, as leader, with a token for the node, its group, and the configured reply expiration', async () => {
    issuer().handle(join('ki-1'));
    await until(() => sent.length, (n) => n === 1, 'the identity reply');
    const reply = sent[0]!;
    assert.equal(reply.queue, names.identity('ki', 'ki-1', 'instance-0123456789ab'));
    assert.equal(reply.expirationMs, 1234);
    const claims = jwt.decode(reply.payload.token) as jwt.JwtPayload;
    assert.equal(claims.sub, 'ki-1');
    assert.equal(claims['group'], 'an-1');
  });

  it('stays silent as a follower, and while its membership view is still filling', () => {
    leadership.leading = false;
    issuer().handle(join('ki-1'));
    leadership.leading = true;
    issuer({ answerFromMs: Date.now() + 60_000 }).handle(join('ki-1'));
    assert.equal(sent.length, 0);
  });

  it('refuses, to be counted, a join with a wrong proof or for an id a live process of another instance holds', () => {
    assert.throws(() => issuer().handle(join('ki-1', undefined, 'a-wrong-secret-0123456789abcdef')), MessageRejectedError);
    membership.observe(heartbeat('ki-2', { instance: 'instance-other-000000' }));
    assert.throws(() => issuer().handle(join('ki-2')), MessageRejectedError);
    assert.equal(sent.length, 0);
  });
});
