import { strict as assert } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { dbCounts, ExecutionLog } from '../../scripts/chaos/invariants';
import { assertPromisesKept, CHAOS_NODE_ENV, summary, Workload } from '../../scripts/chaos/workload';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { NetnsLab, netnsUnavailable } from '../helpers/netns';
import { NodeLink } from '../helpers/node-link';
import { expectHealed } from '../helpers/recovery';
import { waitFor } from '../helpers/wait';

type Partition = 'link-down' | 'drop';

interface Member {
  node: NodeProcess;
  link: NodeLink;
}

/**
 * Nodes as separate hosts: each in a network namespace of its own, reaching RabbitMQ and
 * PostgreSQL (which listen on loopback only) through proxies on the host end of its veth link.
 * A partition is made by the kernel: the link down (both ends lose the carrier), or every packet
 * of the link dropped by iptables inside the namespace (half-open: nobody is told).
 */
describe('partitions on a real network (network namespaces)', function () {
  this.timeout(300_000);
  let unavailable: string | undefined;
  let lab: NetnsLab | undefined;
  let iso: Isolation | undefined;
  let cluster: TestCluster | undefined;
  let work: Workload | undefined;
  let execLog: ExecutionLog | undefined;
  const links: NodeLink[] = [];

  before(async function () {
    unavailable = await netnsUnavailable();
    if (unavailable) {
      console.warn(`\n      !!! SKIPPED: partition tests need network namespaces: ${unavailable}\n`);
      this.skip();
    }
  });

  afterEach(async () => {
    await work?.abandon();
    work = undefined;
    await cluster?.stopAll();
    cluster = undefined;
    for (const l of links.splice(0)) await l.stop();
    await lab?.destroy();
    lab = undefined;
    await iso?.destroy();
    iso = undefined;
    execLog?.remove();
  });

  async function startCluster(label: string): Promise<{ members: Record<string, Member>; databaseUrl: string }> {
    lab = await NetnsLab.open();
    iso = await createIsolation(label);
    execLog = new ExecutionLog(iso.id);
    // A short AMQP heartbeat: the broker drops a silent node's connection (and gives its unacked
    // messages to others) within seconds, and the node finds out as soon.
    cluster = new TestCluster(iso, { ...CHAOS_NODE_ENV, ...execLog.nodeEnv(), AMQP_HEARTBEAT_SEC: '2' });
    const members: Record<string, Member> = {};
    for (const [id, role] of [['p1', 'principal'], ['p2', 'principal'], ['an1', 'an'], ['an2', 'an'], ['ki1', 'ki'], ['ki2', 'ki'], ['ki3', 'ki']] as const) {
      const link = await NodeLink.open({ amqpUrl: iso.amqpUrl, ...(role === 'ki' ? {} : { databaseUrl: iso.databaseUrl }), lab });
      links.push(link);
      members[id] = { node: await cluster.start(role, link.nodeOptions({ id })), link };
    }
    work = await Workload.start({ cluster, iso, databaseUrl: iso.databaseUrl, execLog, ratePerSec: 12 });
    await flowing(iso.databaseUrl, 'before the partition');
    return { members, databaseUrl: iso.databaseUrl };
  }

  async function flowing(databaseUrl: string, when: string): Promise<void> {
    const before = (await dbCounts(databaseUrl)).terminal['succeeded'] ?? 0;
    await waitFor(async () => (await dbCounts(databaseUrl)).terminal['succeeded'] ?? 0, (n) => n >= before + 15, { timeoutMs: 60_000, what: `tasks flowing ${when}` });
  }

  async function partitioned(m: Member, how: Partition, forMs: number): Promise<void> {
    const host = m.link.netns!;
    if (how === 'link-down') await lab!.linkDown(host);
    else await lab!.dropAll(host);
    await sleep(forMs);
    await lab!.heal(host);
  }

  async function finish(): Promise<void> {
    const report = await work!.finish(120_000);
    work = undefined;
    console.log(`      ${summary(report)}, requests that got no answer ${report.unreachable}`);
    assertPromisesKept(report);
    await expectHealed(cluster!, 90_000);
  }

  it('a Ki cut off (link down, then half-open for long): its tasks run elsewhere, it rejoins soon after the heal, every promise is kept', async () => {
    const { members, databaseUrl } = await startCluster('partki');
    const ki = members['ki1']!;
    await partitioned(ki, 'link-down', 6000);
    await flowing(databaseUrl, 'after the Ki\'s link came back');
    // Half-open for 40 s after the Ki noticed: the broker reconnect it started then sends its
    // SYNs into the void, and the kernel retries them at 1, 3, 7, 15, 31 and 63 s. The Ki must be
    // back soon after the heal, not at the SYN of second 63.
    const lost = () => ki.node.logs.filter((l) => l.includes('broker connection lost')).length;
    // Tasks flowing again says nothing of this Ki: it may still be reconnecting, and a link that
    // goes silent before it has a connection leaves it nothing to lose.
    await cluster!.waitReady(ki.node, 60_000);
    const lostBefore = lost();
    await lab!.dropAll(ki.link.netns!);
    await waitFor(async () => lost(), (n) => n > lostBefore, { timeoutMs: 20_000, what: 'the Ki notices the silent broker' });
    await sleep(40_000);
    await lab!.heal(ki.link.netns!);
    await cluster!.waitReady(ki.node, 12_000);
    await flowing(databaseUrl, 'after the Ki\'s packets flow again');
    await finish();
  });

  it('an An cut off (half-open, then link down) past its lease: the leader takes its tasks back, it rejoins, every promise is kept', async () => {
    const { members, databaseUrl } = await startCluster('partan');
    await partitioned(members['an1']!, 'drop', 8000);
    await flowing(databaseUrl, 'after the An\'s packets flow again');
    await partitioned(members['an1']!, 'link-down', 8000);
    await flowing(databaseUrl, 'after the An\'s link came back');
    await finish();
  });

  it('the leader principal cut off (half-open): another principal leads, the old one follows once back, every promise is kept', async () => {
    const { members, databaseUrl } = await startCluster('partleader');
    const ops = (p: NodeProcess) => new Api(cluster!.url(p), cluster!.token('ops', 'operator'));
    const leaderSeenBy = async (p: NodeProcess): Promise<string | undefined> => (await ops(p).get('/cluster')).body?.leader?.id;
    const leaderId = await waitFor(() => leaderSeenBy(members['p1']!.node), (id) => id === 'p1' || id === 'p2', { what: 'a leader' });
    const leader = members[leaderId!]!;
    const follower = members[leaderId === 'p1' ? 'p2' : 'p1']!;

    const cut = partitioned(leader, 'drop', 10_000);
    await waitFor(() => leaderSeenBy(follower.node), (id) => id === follower.node.id, { timeoutMs: 30_000, what: `${follower.node.id} leads while ${leader.node.id} is cut off` });
    await cut;
    await flowing(databaseUrl, 'after the old leader\'s packets flow again');
    await finish();
    // Once healed, both principals name the same leader.
    const seen = await waitFor(async () => [await leaderSeenBy(members['p1']!.node), await leaderSeenBy(members['p2']!.node)], ([a, b]) => a !== undefined && a === b, { timeoutMs: 30_000, what: 'one leader seen by both principals' });
    assert.ok(seen[0] === 'p1' || seen[0] === 'p2');
  });
});
