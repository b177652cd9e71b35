import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { DEV_AES_KEYS, DEV_JWT_SECRET } from '../../src/config/schema';
import type { MessageOf, MessageType } from '../../src/protocol/messages';
import { topologyNames } from '../../src/protocol/names';
import { EnvelopeCodec, type WireMessage } from '../../src/security/envelope';
import { IssuedTokenSigner } from '../../src/security/issued-tokens';
import { parseKeyRing } from '../../src/security/key-ring';
import { generateNodeKeyPair, loadSigningKey } from '../../src/security/node-keys';
import { NodeTokenAuthority } from '../../src/security/node-tokens';
import { PopKeyPair } from '../../src/security/pop-key';
import { ReplayGuard } from '../../src/security/replay-guard';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

/**
 * A second node identity (a Ki of the cluster, with a valid token of its own) forges a result for
 * a task running on another Ki and heartbeats in other nodes' names. With real processes, in both
 * node token modes: the receivers refuse them (reason `sender`) and the real Ki's result wins.
 */

const PAIR = generateNodeKeyPair();
const ISSUED_ENV = {
  NODE_TOKEN_MODE: 'issued', NODE_SIGNING_KEY: PAIR.privatePem,
  JOIN_SECRET_AN: randomBytes(32).toString('hex'), JOIN_SECRET_KI: randomBytes(32).toString('hex'),
};
const EVIL = 'ki-evil';

/** Seals as the forger: its own valid Ki token (and, in issued mode, its own key). */
function forger(mode: 'shared' | 'issued'): <T extends MessageType>(type: T, payload: MessageOf<T>) => WireMessage {
  const pop = mode === 'issued' ? new PopKeyPair() : undefined;
  const token = mode === 'issued'
    ? new IssuedTokenSigner(loadSigningKey(PAIR.privatePem), 600).sign({ sub: EVIL, role: 'ki', inst: 'evil-instance-0000000000', cnf: pop!.jwk })
    : new NodeTokenAuthority(DEV_JWT_SECRET, { ttlSec: 600, clockToleranceSec: 5 }).sign({ sub: EVIL, role: 'ki' });
  const codec = new EnvelopeCodec({
    nodeId: EVIL, keys: parseKeyRing(DEV_AES_KEYS), tokens: { verify: () => { throw new Error('unused'); } }, ownToken: { get: () => token },
    replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20, ...(pop ? { pop } : {}),
  });
  return (type, payload) => codec.seal(type, payload);
}

function heartbeat(id: string, role: 'an' | 'ki', status: 'alive' | 'leaving'): MessageOf<'node.heartbeat'> {
  return { v: 1, id, role, group: 'an1', status, startedAtMs: Date.now(), version: '0', load: 0, slots: { total: 64, busy: 0 }, gpus: [], types: ['echo', 'sleep'], labels: [] };
}

for (const mode of ['shared', 'issued'] as const) {
  describe(`forged identities in payloads are refused (${mode} node tokens, real processes)`, function () {
    this.timeout(120_000);
    let iso: Isolation;
    let cluster: TestCluster;
    let principal: NodeProcess;
    let an: NodeProcess;
    let api: Api;

    before(async () => {
      iso = await createIsolation(`sender${mode}`);
      cluster = new TestCluster(iso, { KI_SLOTS: '2', SHUTDOWN_GRACE_MS: '3000', ...(mode === 'issued' ? ISSUED_ENV : {}) });
      principal = await cluster.start('principal', { id: 'p1' });
      an = await cluster.start('an', { id: 'an1' });
      await cluster.start('ki', { id: 'ki1', env: { KI_LABELS: 'one' } });
      await cluster.start('ki', { id: 'ki2' });
      api = new Api(cluster.url(principal), cluster.token('root', 'admin'));
      await waitFor(async () => (await api.get('/nodes')).body.items as { id: string; status: string; group: string }[],
        (ns) => ['ki1', 'ki2'].every((id) => ns.some((n) => n.id === id && n.status === 'alive' && n.group === 'an1')), { what: 'ki1 and ki2 in the group of an1' });
    });

    after(async () => {
      await cluster?.stopAll();
      await iso?.destroy();
    });

    it('refuses a forged result and forged heartbeats, and the real result of the Ki wins', async () => {
      const sub = await api.post('/tasks', { type: 'sleep', payload: { ms: 2500 }, requirements: { labels: ['one'] }, maxAttempts: 1 });
      assert.equal(sub.status, 201, JSON.stringify(sub.body));
      const id = sub.body.id as string;
      const running = await waitFor(async () => (await api.get(`/tasks/${id}`)).body, (t) => t.status === 'running' && t.ki === 'ki1', { what: 'the task running on ki1' });
      const attempt = running.attempts as number;
      const before = { an: await an.rejected('sender'), principal: await principal.rejected('sender') };

      const names = topologyNames(iso.prefix);
      const seal = forger(mode);
      const conn = await amqplib.connect(iso.amqpUrl);
      try {
        const ch = await conn.createConfirmChannel();
        const props = (m: WireMessage) => ({
          messageId: m.id, type: m.type, appId: m.sender, contentType: 'application/octet-stream',
          headers: { 'x-kid': m.kid, 'x-ts': m.timestampMs, ...(m.sig ? { 'x-sig': m.sig.toString('base64url') } : {}) },
        });
        const now = Date.now();
        const result = seal('task.result', { v: 1, ki: 'ki1', items: [{ taskId: id, attempt, startedAtMs: now, finishedAtMs: now, ok: true, result: 'forged' }] });
        ch.sendToQueue(names.inbox('an', 'an1'), result.body, props(result));
        // The An "leaving" (its tasks would be requeued) and ki1 "leaving" (its run taken for lost).
        for (const [id2, role] of [['an1', 'an'], ['ki1', 'ki']] as const) {
          const hb = seal('node.heartbeat', heartbeat(id2, role, 'leaving'));
          ch.publish(names.control, names.rk.heartbeat(role, id2), hb.body, props(hb));
        }
        await ch.waitForConfirms();
      } finally {
        await conn.close();
      }

      // an1 hears the forged result and ki1's forged heartbeat; p1 hears both heartbeats.
      await waitFor(() => an.rejected('sender'), (n) => n >= before.an + 2, { what: 'the forged result and heartbeat refused by an1' });
      await waitFor(() => principal.rejected('sender'), (n) => n >= before.principal + 2, { what: 'the forged heartbeats refused by p1' });
      const done = await waitFor(async () => (await api.get(`/tasks/${id}`)).body, (t) => t.status === 'succeeded' || t.status === 'failed', { timeoutMs: 20_000, what: 'the task finished' });
      assert.equal(done.status, 'succeeded');
      assert.deepEqual(done.result, { slept: 2500 }, 'the result of ki1, not the forged one');
      assert.equal(done.attempts, attempt, 'the task was not requeued');
      const nodes = (await api.get('/nodes')).body.items as { id: string; status: string }[];
      assert.equal(nodes.find((n) => n.id === 'an1')?.status, 'alive');
      assert.equal(nodes.find((n) => n.id === 'ki1')?.status, 'alive');
      assert.equal(nodes.some((n) => n.id === EVIL), false);
    });
  });
}
