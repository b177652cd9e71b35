import { strict as assert } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { dbCounts, ExecutionLog } from '../../scripts/chaos/invariants';
import { assertPromisesKept, CHAOS_NODE_ENV, summary, Workload } from '../../scripts/chaos/workload';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { NodeLink } from '../helpers/node-link';
import { expectHealed } from '../helpers/recovery';
import { waitFor } from '../helpers/wait';

const succeeded = async (databaseUrl: string) => (await dbCounts(databaseUrl)).terminal['succeeded'] ?? 0;

describe('half-open connections: traffic silently dropped, nothing closed', function () {
  this.timeout(240_000);
  let iso: Isolation | undefined;
  let cluster: TestCluster | undefined;
  let work: Workload | undefined;
  let execLog: ExecutionLog | undefined;
  const links: NodeLink[] = [];

  afterEach(async () => {
    await work?.abandon();
    work = undefined;
    await cluster?.stopAll();
    for (const l of links.splice(0)) await l.stop();
    await iso?.destroy();
    execLog?.remove();
  });

  /** Principal, An and Ki each reach the broker and the database through a link of their own. */
  async function startLinkedCluster(label: string, env: Record<string, string> = {}): Promise<{ nodes: Record<string, { node: NodeProcess; link: NodeLink }>; databaseUrl: string }> {
    iso = await createIsolation(label);
    execLog = new ExecutionLog(iso.id);
    cluster = new TestCluster(iso, { ...CHAOS_NODE_ENV, ...execLog.nodeEnv(), ...env });
    const nodes: Record<string, { node: NodeProcess; link: NodeLink }> = {};
    for (const [id, role] of [['p1', 'principal'], ['p2', 'principal'], ['an1', 'an'], ['ki1', 'ki'], ['ki2', 'ki']] as const) {
      const link = await NodeLink.open({ amqpUrl: iso.amqpUrl, ...(role === 'ki' ? {} : { databaseUrl: iso.databaseUrl }) });
      links.push(link);
      nodes[id] = { node: await cluster.start(role, link.nodeOptions({ id })), link };
    }
    return { nodes, databaseUrl: iso.databaseUrl };
  }

  it('node to database: a frozen connection of the An, then of every principal, turns into errors and retries, and all recovers once it flows', async () => {
    const { nodes, databaseUrl } = await startLinkedCluster('halfopendb');
    work = await Workload.start({ cluster: cluster!, iso: iso!, databaseUrl, execLog: execLog!, ratePerSec: 15 });
    await waitFor(() => succeeded(databaseUrl), (n) => n >= 20, { timeoutMs: 30_000, what: 'tasks flowing' });

    // The An's store goes silent for longer than any statement may take.
    nodes['an1']!.link.db!.freeze();
    await sleep(10_000);
    nodes['an1']!.link.db!.restore();
    const afterAn = await succeeded(databaseUrl);
    await waitFor(() => succeeded(databaseUrl), (n) => n >= afterAn + 20, { timeoutMs: 45_000, what: 'tasks flowing after the An\'s store came back' });

    // Both principals at once: admission cannot store, the leader cannot renew its lease.
    for (const id of ['p1', 'p2']) nodes[id]!.link.db!.freeze();
    await sleep(10_000);
    for (const id of ['p1', 'p2']) nodes[id]!.link.db!.restore();
    const afterPrincipals = await succeeded(databaseUrl);
    await waitFor(() => succeeded(databaseUrl), (n) => n >= afterPrincipals + 20, { timeoutMs: 45_000, what: 'tasks flowing after the principals\' store came back' });

    const report = await work.finish(90_000);
    work = undefined;
    console.log(`      ${summary(report)}`);
    assertPromisesKept(report);
    await expectHealed(cluster!);
  });

  it('the leader\'s broker link frozen while its database answers: every promise kept once it flows, one leader again (who leads meanwhile is reported)', async () => {
    const { nodes, databaseUrl } = await startLinkedCluster('halfopenlead', { AMQP_HEARTBEAT_SEC: '2', AMQP_PUBLISH_TIMEOUT_MS: '2000' });
    const ops = (id: string) => new Api(cluster!.url(nodes[id]!.node), cluster!.token('ops', 'operator'));
    const leaderSeenBy = async (id: string): Promise<string | undefined> => (await ops(id).get('/cluster')).body?.leader?.id;
    const leaderId = (await waitFor(() => leaderSeenBy('p1'), (l) => l === 'p1' || l === 'p2', { what: 'a leader' }))!;
    const followerId = leaderId === 'p1' ? 'p2' : 'p1';
    work = await Workload.start({ cluster: cluster!, iso: iso!, databaseUrl, execLog: execLog!, ratePerSec: 15 });
    await waitFor(() => succeeded(databaseUrl), (n) => n >= 20, { timeoutMs: 30_000, what: 'tasks flowing' });

    nodes[leaderId]!.link.broker.freeze();
    const seen = new Set<string>();
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      const l = await leaderSeenBy(followerId).catch(() => undefined);
      if (l) seen.add(l);
      await sleep(500);
    }
    nodes[leaderId]!.link.broker.restore();
    console.log(`      leader ${leaderId} cut off from the broker for 15 s; ${followerId} saw as leader meanwhile: ${[...seen].join(', ') || 'none'}`);

    const report = await work.finish(90_000);
    work = undefined;
    console.log(`      ${summary(report)}`);
    assertPromisesKept(report);
    await expectHealed(cluster!);
    const after = await waitFor(async () => [await leaderSeenBy('p1'), await leaderSeenBy('p2')], ([a, b]) => a !== undefined && a === b, { timeoutMs: 30_000, what: 'one leader seen by both principals' });
    assert.ok(after[0] === 'p1' || after[0] === 'p2');
  });

  it('node to broker: the AMQP heartbeat finds a frozen connection, publishes fail within their timeout, and the node reconnects once it flows', async () => {
    const { nodes, databaseUrl } = await startLinkedCluster('halfopenmq', { AMQP_HEARTBEAT_SEC: '1', AMQP_PUBLISH_TIMEOUT_MS: '2000' });
    work = await Workload.start({ cluster: cluster!, iso: iso!, databaseUrl, execLog: execLog!, ratePerSec: 15 });
    await waitFor(() => succeeded(databaseUrl), (n) => n >= 20, { timeoutMs: 30_000, what: 'tasks flowing' });

    const p1 = nodes['p1']!.node;
    const alice = new Api(cluster!.url(p1), cluster!.token('alice', 'submitter'));
    const publishFailures = () => p1.logs.filter((l) => l.includes('publish failed; the sweeper will republish')).length;
    let sentDuringFreeze: string | undefined;
    for (const id of ['an1', 'p1']) {
      const { node, link } = nodes[id]!;
      const lostBefore = node.logs.filter((l) => l.includes('broker connection lost')).length;
      const failedBefore = publishFailures();
      link.broker.freeze();
      if (node === p1) {
        // Stored, then published into the silent connection: its confirm never comes.
        const r = await alice.post('/tasks', { type: 'echo', payload: 'sent while the broker link is silent' });
        assert.equal(r.status, 201);
        sentDuringFreeze = r.body.id;
      }
      await waitFor(async () => node.logs.filter((l) => l.includes('broker connection lost')).length, (n) => n > lostBefore, { timeoutMs: 15_000, what: `${id}'s heartbeat notices the silent broker` });
      if (node === p1) await waitFor(async () => publishFailures(), (n) => n > failedBefore, { timeoutMs: 15_000, what: 'the unconfirmed publish fails within its timeout' });
      await sleep(3000);
      link.broker.restore();
      await cluster!.waitReady(node, 30_000);
      const after = await succeeded(databaseUrl);
      await waitFor(() => succeeded(databaseUrl), (n) => n >= after + 20, { timeoutMs: 45_000, what: `tasks flowing after ${id}'s broker link came back` });
    }

    const report = await work.finish(90_000);
    work = undefined;
    console.log(`      ${summary(report)}`);
    assertPromisesKept(report);
    await expectHealed(cluster!);
    assert.ok(nodes['an1']!.node.alive && p1.alive, 'the nodes kept running');
    const done = await waitFor(() => alice.get(`/tasks/${sentDuringFreeze}`), (r) => r.body?.status === 'succeeded', { timeoutMs: 30_000, what: 'the task whose publish failed was republished and ran' });
    assert.deepEqual(done.body.result, 'sent while the broker link is silent');
  });
});
