import { strict as assert } from 'node:assert';
import { createDecipheriv, randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { DEV_AES_KEYS, DEV_JWT_SECRET } from '../../src/config/schema';
import { topologyNames } from '../../src/protocol/names';
import type { MessageOf, MessageType } from '../../src/protocol/messages';
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
 * Issued node tokens (NODE_TOKEN_MODE=issued) with real processes: the leader admits Ans and Kis
 * that prove their role's join secret, refuses a second process claiming a live node's id, and
 * nodes refuse tokens the leader did not sign. Tokens are refreshed while tasks keep running.
 */

const PAIR = generateNodeKeyPair();
const JOIN_SECRET_AN = randomBytes(32).toString('hex');
const JOIN_SECRET_KI = randomBytes(32).toString('hex');
const ISSUED_ENV = { NODE_TOKEN_MODE: 'issued', NODE_SIGNING_KEY: PAIR.privatePem, JOIN_SECRET_AN, JOIN_SECRET_KI, KI_SLOTS: '2', SHUTDOWN_GRACE_MS: '3000' };

async function nodeIds(api: Api): Promise<{ id: string; role: string; status: string; group: string; instance?: string; lastSeen?: string }[]> {
  const r = await api.get('/nodes');
  assert.equal(r.status, 200);
  return r.body.items;
}

async function runTasks(api: Api, count: number): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await api.post('/tasks', { type: 'echo', payload: { i } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    ids.push(r.body.id as string);
  }
  for (const id of ids) await waitFor(async () => (await api.get(`/tasks/${id}`)).body.status as string, (s) => s === 'succeeded', { timeoutMs: 20_000, what: `task ${id} succeeded` });
}

/** Opens a sealed body with the AES keys every node holds, and returns the sender's token inside. */
function liftToken(m: WireMessage): string {
  const key = parseKeyRing(DEV_AES_KEYS).get(m.kid)!;
  const d = createDecipheriv('aes-256-gcm', key.secret, m.body.subarray(0, 12), { authTagLength: 16 });
  d.setAAD(Buffer.from(`${m.id}|${m.type}|${m.sender}|${m.timestampMs}|${m.kid}`));
  d.setAuthTag(m.body.subarray(m.body.length - 16));
  return (JSON.parse(Buffer.concat([d.update(m.body.subarray(12, m.body.length - 16)), d.final()]).toString('utf8')) as { token: string }).token;
}

const logged = (node: NodeProcess, msg: string, extra: (l: Record<string, unknown>) => boolean = () => true) => node.jsonLogs().filter((l) => l['msg'] === msg && extra(l));

describe('issued node identities (real processes, RabbitMQ, PostgreSQL)', function () {
  this.timeout(120_000);

  describe('admission', () => {
    let iso: Isolation;
    let cluster: TestCluster;
    let principal: NodeProcess;
    let ki1: NodeProcess;
    let api: Api;

    before(async () => {
      iso = await createIsolation('identity');
      cluster = new TestCluster(iso, ISSUED_ENV);
      principal = await cluster.start('principal', { id: 'p1' });
      await cluster.start('an', { id: 'an1' });
      ki1 = await cluster.start('ki', { id: 'ki1' });
      await cluster.start('ki', { id: 'ki2' });
      api = new Api(cluster.url(principal), cluster.token('root', 'admin'));
    });

    after(async () => {
      await cluster?.stopAll();
      await iso?.destroy();
    });

    it('admits an An and two Kis, lists them with their instance, and runs tasks', async () => {
      await waitFor(() => nodeIds(api), (ns) => ['an1', 'ki1', 'ki2'].every((id) => ns.some((n) => n.id === id && n.status === 'alive' && n.instance)), { what: 'an1, ki1, ki2 alive' });
      await runTasks(api, 6);
      for (const id of ['an1', 'ki1', 'ki2']) assert.ok(logged(principal, 'node token issued', (l) => l['node'] === id).length >= 1, `${id} got a token`);
    });

    it('gives a Ki moved into a group a token whose group follows at once', async () => {
      await waitFor(() => logged(principal, 'node token issued', (l) => l['node'] === 'ki1' && l['group'] === 'an1'), (ls) => ls.length > 0, { what: 'a token for ki1 with group an1' });
    });

    it('never admits a Ki with a wrong join secret, and counts its joins as rejected', async () => {
      const before = await principal.rejected('join');
      const bad = await cluster.start('ki', { id: 'ki-bad', env: { JOIN_SECRET_KI: randomBytes(32).toString('hex') }, waitReady: false });
      await waitFor(() => logged(bad, 'waiting for a principal to admit this node'), (ls) => ls.length > 0, { what: 'ki-bad waiting' });
      await waitFor(() => principal.rejected('join'), (n) => n >= before + 2, { what: 'join rejections on the principal' });
      assert.equal((await nodeIds(api)).some((n) => n.id === 'ki-bad'), false);
      assert.equal(logged(principal, 'node token issued', (l) => l['node'] === 'ki-bad').length, 0);
      bad.proc.kill('SIGTERM');
      assert.equal(await bad.exited, 0, 'a node still waiting to be admitted exits cleanly on SIGTERM');
    });

    it('never admits an An that holds only the Ki join secret', async () => {
      const before = await principal.rejected('join');
      const bad = await cluster.start('an', { id: 'an-bad', env: { JOIN_SECRET_AN: JOIN_SECRET_KI }, waitReady: false });
      await waitFor(() => principal.rejected('join'), (n) => n >= before + 1, { what: 'join rejections on the principal' });
      assert.equal((await nodeIds(api)).some((n) => n.id === 'an-bad'), false);
      await bad.kill('SIGTERM');
    });

    it('never admits a second process with the id of a live Ki while the first lives', async () => {
      const original = (await nodeIds(api)).find((n) => n.id === 'ki1')!;
      const before = await principal.rejected('join');
      const twin = await cluster.start('ki', { id: 'ki1', waitReady: false });
      await waitFor(() => logged(principal, 'join refused: a live node already uses this id', (l) => l['node'] === 'ki1'), (ls) => ls.length >= 2, { what: 'the twin refused twice' });
      assert.ok(await principal.rejected('join') >= before + 2);
      assert.ok(logged(twin, 'waiting for a principal to admit this node').length > 0);
      assert.equal(logged(twin, 'admitted by the leader').length, 0);
      const now = (await nodeIds(api)).find((n) => n.id === 'ki1')!;
      assert.equal(now.instance, original.instance, 'ki1 is still the first process');
      assert.ok(ki1.alive);
      await runTasks(api, 4);
      await twin.kill('SIGTERM');
    });

    it('refuses the messages of a Ki that signs its own principal token (HS256 shared key or its own ES256 key)', async () => {
      const names = topologyNames(iso.prefix);
      const own = new IssuedTokenSigner(loadSigningKey(generateNodeKeyPair().privatePem), 60);
      const forged = [
        new NodeTokenAuthority(DEV_JWT_SECRET, { ttlSec: 60, clockToleranceSec: 5 }).sign({ sub: 'ki-evil', role: 'principal' }),
        own.sign({ sub: 'ki-evil', role: 'principal' }),
      ];
      const beforePrincipal = await principal.rejected('token');
      const beforeKi = await ki1.rejected('token');
      const conn = await amqplib.connect(iso.amqpUrl);
      try {
        const ch = await conn.createConfirmChannel();
        const publish = (rk: string, m: WireMessage) => {
          ch.publish(names.control, rk, m.body, { messageId: m.id, type: m.type, appId: m.sender, headers: { 'x-kid': m.kid, 'x-ts': m.timestampMs }, contentType: 'application/octet-stream' });
        };
        for (const token of forged) {
          const seal = <T extends MessageType>(type: T, payload: MessageOf<T>) => new EnvelopeCodec({
            nodeId: 'ki-evil', keys: parseKeyRing(DEV_AES_KEYS), tokens: { verify: () => { throw new Error('unused'); } }, ownToken: { get: () => token },
            replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20,
          }).seal(type, payload);
          publish(names.rk.heartbeat('principal', 'ki-evil'), seal('node.heartbeat', {
            v: 1, id: 'ki-evil', role: 'principal', group: '', status: 'alive', startedAtMs: Date.now(), version: '0', load: 0, slots: { total: 0, busy: 0 }, gpus: [], types: [], labels: [], leader: true, term: 999,
          }));
          publish(names.rk.assign('ki1'), seal('node.assign', { v: 1, nodeId: 'ki1', group: 'evil', term: 999 }));
        }
        await ch.waitForConfirms();
      } finally {
        await conn.close();
      }
      await waitFor(() => principal.rejected('token'), (n) => n >= beforePrincipal + 2, { what: 'forged heartbeats refused by the principal' });
      await waitFor(() => ki1.rejected('token'), (n) => n >= beforeKi + 2, { what: 'forged assignments refused by ki1' });
      const ns = await nodeIds(api);
      assert.equal(ns.some((n) => n.id === 'ki-evil'), false);
      assert.notEqual(ns.find((n) => n.id === 'ki1')?.group, 'evil');
    });

    it('refuses node.assign sealed with a principal token lifted from its heartbeat (reason pop), and the Ki keeps its group', async () => {
      const names = topologyNames(iso.prefix);
      const groupBefore = (await nodeIds(api)).find((n) => n.id === 'ki1')?.group;
      assert.equal(groupBefore, 'an1');
      const before = { pop: await ki1.rejected('pop'), token: await ki1.rejected('token') };
      const conn = await amqplib.connect(iso.amqpUrl);
      try {
        const ch = await conn.createConfirmChannel();
        // Listen like a Ki that binds a queue to the principals' heartbeats, and read the token out of one.
        const { queue } = await ch.assertQueue('', { exclusive: true });
        await ch.bindQueue(queue, names.control, names.rk.heartbeat('principal', 'p1'));
        const heartbeat = await new Promise<WireMessage>((resolve) => {
          void ch.consume(queue, (msg) => {
            if (!msg) return;
            const h = msg.properties.headers ?? {};
            resolve({ id: String(msg.properties.messageId), type: String(msg.properties.type), sender: String(msg.properties.appId), timestampMs: Number(h['x-ts']), kid: String(h['x-kid']), body: msg.content });
          }, { noAck: true });
        });
        assert.equal(heartbeat.type, 'node.heartbeat');
        const token = liftToken(heartbeat);
        assert.ok(token.split('.').length === 3, 'a node token was lifted');
        // Sealed as p1 with the real, unexpired token: signed with the Ki's own key, or not signed at all.
        for (const pop of [new PopKeyPair(), undefined]) {
          const wire = new EnvelopeCodec({
            nodeId: 'p1', keys: parseKeyRing(DEV_AES_KEYS), tokens: { verify: () => { throw new Error('unused'); } }, ownToken: { get: () => token },
            replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20, ...(pop ? { pop } : {}),
          }).seal('node.assign', { v: 1, nodeId: 'ki1', group: 'evil', term: 999 });
          ch.publish(names.control, names.rk.assign('ki1'), wire.body, {
            messageId: wire.id, type: wire.type, appId: wire.sender, contentType: 'application/octet-stream',
            headers: { 'x-kid': wire.kid, 'x-ts': wire.timestampMs, ...(wire.sig ? { 'x-sig': wire.sig.toString('base64url') } : {}) },
          });
        }
        await ch.waitForConfirms();
      } finally {
        await conn.close();
      }
      await waitFor(() => ki1.rejected('pop'), (n) => n >= before.pop + 2, { what: 'lifted-token assignments refused by ki1 with reason pop' });
      assert.equal(await ki1.rejected('token'), before.token, 'the lifted token itself verifies: only the proof of possession stops it');
      assert.ok(logged(ki1, 'message rejected', (l) => l['reason'] === 'pop' && l['messageType'] === 'node.assign').length >= 2);
      // A later heartbeat of ki1 still names its group.
      const since = Date.now();
      const fresh = await waitFor(async () => (await nodeIds(api)).find((n) => n.id === 'ki1'), (k) => Date.parse(k?.lastSeen ?? '') > since, { what: 'a heartbeat of ki1 after the forged assignments' });
      assert.equal(fresh?.group, 'an1');
      assert.ok(ki1.alive);
    });
  });

  describe('refresh', () => {
    let iso: Isolation;
    let cluster: TestCluster;

    before(async () => {
      iso = await createIsolation('identityrefresh');
      cluster = new TestCluster(iso, { ...ISSUED_ENV, NODE_TOKEN_TTL_SEC: '6' });
    });

    after(async () => {
      await cluster?.stopAll();
      await iso?.destroy();
    });

    it('keeps finishing tasks across several token refreshes, with no message refused', async () => {
      const principal = await cluster.start('principal', { id: 'p1' });
      const nodes = [principal, await cluster.start('an', { id: 'an1' }), await cluster.start('ki', { id: 'ki1' })];
      const api = new Api(cluster.url(principal), cluster.token('root', 'admin'));
      const issuedTo = (id: string) => logged(principal, 'node token issued', (l) => l['node'] === id).length;
      const start = { an1: issuedTo('an1'), ki1: issuedTo('ki1') };
      // 6 s tokens are refreshed every 3 s: 14 s of work spans at least three refreshes of each node.
      const until = Date.now() + 14_000;
      while (Date.now() < until) await runTasks(api, 3);
      assert.ok(issuedTo('an1') >= start.an1 + 3, `an1 refreshed ${issuedTo('an1') - start.an1} times`);
      assert.ok(issuedTo('ki1') >= start.ki1 + 3, `ki1 refreshed ${issuedTo('ki1') - start.ki1} times`);
      for (const n of nodes) assert.equal(await n.rejected('token'), 0, `${n.id} refused no token`);
      for (const n of nodes) assert.equal(await n.rejected('pop'), 0, `${n.id} refused no message signature`);
    });
  });
});
