import { rejected } from '../../helpers/rejected';
import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { Joiner } from '../../../src/cluster/joiner';
import { Membership } from '../../../src/cluster/membership';
import { createLogger, createMetrics, type Metrics } from '../../../src/observability';
import type { Leadership } from '../../../src/principal/leadership';
import { IdentityIssuer } from '../../../src/principal/identity-issuer';
import { topologyNames } from '../../../src/protocol/names';
import { EnvelopeCodec, parseKeyRing, ReplayGuard, setUpNodeIdentity, type NodeIdentitySetup } from '../../../src/security';
import type { IdentitySettings } from '../../../src/security/identity-setup';
import { generateNodeKeyPair } from '../../../src/security/node-keys';
import { InProcessTransport, MessageBus } from '../../../src/transport';
import { KEY_1 } from '../security/fixtures';

const names = topologyNames('unitjoin');
const pair = generateNodeKeyPair();
const settings: IdentitySettings = {
  jwtSecret: 'unused-in-issued-mode-0123456789abcdef-0123456789', joinSecret: 'unit-join-secret-0123456789abcdef-0123', joinSecretAn: '', joinSecretKi: '',
  nodeTokenMode: 'issued', nodeSigningKey: pair.privatePem, nodeTokenPublicKeys: '', nodeTokenExtraPublicKeys: '', nodeTokenTtlSec: 60, clockToleranceSec: 5,
};
const log = createLogger({ nodeId: 'test', role: 'test', level: 'silent' });
const leader: Leadership = { isLeader: () => true, term: 1, leader: () => ({ id: 'p1', term: 1 }), fence: () => null };

function busFor(transport: InProcessTransport, nodeId: string, identity: NodeIdentitySetup, metrics: Metrics): MessageBus {
  const codec = new EnvelopeCodec({ nodeId, keys: parseKeyRing(`k1:${KEY_1}`), tokens: identity.verifier, ownToken: identity.ownToken, replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20, ...(identity.pop ? { pop: identity.pop } : {}) });
  return new MessageBus({ transport, codec, metrics, log });
}

describe('joining in issued mode (in-process bus)', () => {
  let transport: InProcessTransport;
  let membership: Membership;
  let principalMetrics: Metrics;
  let principal: NodeIdentitySetup;
  const joiners: Joiner[] = [];

  beforeEach(async () => {
    transport = new InProcessTransport({ names });
    await transport.start();
    membership = new Membership({ suspectAfterMs: 1000, deadAfterMs: 2500, removeAfterMs: 60_000 });
    principalMetrics = createMetrics(new Registry(), 'principal');
    principal = setUpNodeIdentity('principal', 'p1', settings);
    const bus = busFor(transport, 'p1', principal, principalMetrics);
    const issuer = new IdentityIssuer({ bus, names, leadership: leader, membership, issue: principal.issue!, log, groupOf: () => 'g1', answerFromMs: 0 });
    await bus.subscribe({ name: 'unitjoin.principal', kind: 'transient', bindings: [{ exchange: names.control, pattern: 'join.#' }] }, 16, ['node.join'], ({ msg, delivery }) => {
      if (msg.type === 'node.join') issuer.handle(msg);
      delivery.ack();
    });
  });

  afterEach(async () => {
    for (const j of joiners.splice(0)) await j.stop();
    await transport.stop();
  });

  function joiner(id: string, role: 'an' | 'ki', overrides: Partial<IdentitySettings> = {}): { joiner: Joiner; identity: NodeIdentitySetup } {
    const identity = setUpNodeIdentity(role, id, { ...settings, nodeSigningKey: '', ...overrides });
    const j = new Joiner({ bus: busFor(transport, id, identity, createMetrics(new Registry(), role)), names, nodeId: id, join: identity.join!, log });
    joiners.push(j);
    return { joiner: j, identity };
  }

  const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> => Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);

  it('admits a Ki: its token names it, its role, group and instance, and the principal accepts it', async () => {
    const { joiner: j, identity } = joiner('ki-1', 'ki');
    assert.equal(await within(j.start(), 3000), true);
    const claims = principal.verifier.verify(identity.ownToken.get());
    assert.deepEqual({ sub: claims.sub, role: claims.role, group: claims.group, inst: claims.inst }, { sub: 'ki-1', role: 'ki', group: 'g1', inst: j.instance });
    assert.equal(identity.verifier.verify(principal.ownToken.get()).role, 'principal', 'the Ki learned the principal key');
  });

  it('never admits a node with a wrong join secret, and counts each refused join', async () => {
    const { joiner: j } = joiner('ki-2', 'ki', { joinSecret: 'some-other-join-secret-0123456789abcdef' });
    assert.equal(await within(j.start(), 1500), 'timeout');
    assert.ok(await rejected(principalMetrics, 'join') >= 1);
    await j.stop();
    assert.equal(await j.start(), false, 'a stopped joiner gives up');
  });

  it('never admits an An that proves the Ki join secret', async () => {
    const { joiner: j } = joiner('an-1', 'an', { joinSecretAn: 'the-ki-secret-used-by-an-an-0123456789', joinSecretKi: 'the-ki-secret-used-by-an-an-0123456789' });
    assert.equal(await within(j.start(), 1500), 'timeout');
    assert.ok(await rejected(principalMetrics, 'join') >= 1);
  });

  it('refuses the id of a live member with another instance, and admits it once that member left', async () => {
    membership.observe({
      v: 1, id: 'ki-3', role: 'ki', group: 'g1', status: 'alive', startedAtMs: 0, version: '0', load: 0, slots: { total: 1, busy: 0 },
      gpus: [], types: [], labels: [], instance: 'the-live-instance-0123',
    });
    const { joiner: j } = joiner('ki-3', 'ki');
    const admitted = j.start();
    assert.equal(await within(admitted, 1500), 'timeout');
    assert.ok(await rejected(principalMetrics, 'join') >= 1);
    membership.observe({ ...membership.get('ki', 'ki-3')!.heartbeat, status: 'leaving' });
    assert.equal(await within(admitted, 8000), true);
  });
});
