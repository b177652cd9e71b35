import { strict as assert } from 'node:assert';
import { startEventMonitor } from '../../scripts/chaos/event-monitor';
import { topologyNames } from '../../src/protocol/names';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { skipUnlessRabbitNodes, startRabbitCluster, type RabbitCluster, type RabbitNode } from '../helpers/rabbit-nodes';
import { statusCounts, statusesOf } from '../helpers/task-db';
import { startTaskStream } from '../helpers/task-stream';
import { reportMeasured as report, waitFor } from '../helpers/wait';


/**
 * Our cluster on a three-node RabbitMQ cluster, every process given all three brokers in AMQP_URL
 * (each list starting at another node, so the connections spread). Broker nodes are stopped while
 * tasks stream in: first the one the leader principal is connected to, then the one leading the
 * pending queue's Raft group.
 */
describe('a three-node RabbitMQ cluster losing nodes under load (real processes)', function () {
  this.timeout(300_000);
  let rc: RabbitCluster | undefined;
  let iso: Isolation;
  let cluster: TestCluster;
  let monitor: Awaited<ReturnType<typeof startEventMonitor>> | undefined;
  let nodes: NodeProcess[] = [];

  before(async function () {
    skipUnlessRabbitNodes(this, 'the RabbitMQ cluster test');
    const startedAt = Date.now();
    [rc, iso] = await Promise.all([startRabbitCluster(3, 'c'), createIsolation('mqcluster')]);
    report('three clustered RabbitMQ nodes started', Date.now() - startedAt);
    await rc.addVhost(iso.vhost);
    cluster = new TestCluster(iso, { AMQP_RECONNECT_MAX_DELAY_MS: '1000', SWEEP_INTERVAL_MS: '500', AMQP_QUORUM_GROUP_SIZE: '3' });
    const specs: [role: 'principal' | 'an' | 'ki', id: string][] = [['principal', 'p1'], ['principal', 'p2'], ['an', 'an1'], ['an', 'an2'], ['ki', 'ki1'], ['ki', 'ki2'], ['ki', 'ki3']];
    nodes = await Promise.all(specs.map(([role, id], i) => cluster.start(role, { id, env: { AMQP_URL: rc!.amqpUrls(iso.vhost, i), ...(role === 'ki' ? { KI_SLOTS: '4' } : {}) } })));
    monitor = await startEventMonitor({ amqpUrl: rc.amqpUrls(iso.vhost), prefix: iso.prefix }, { queueKind: 'quorum' });
  });

  after(async () => {
    await monitor?.stop();
    await cluster?.stopAll();
    await iso?.destroy();
    await rc?.destroy();
  });

  const running = () => rc!.nodes.filter((n) => !stopped.has(n));
  const stopped = new Set<RabbitNode>();
  const nodeOnPort = (port: number) => rc!.nodes.find((n) => n.amqpPort === port);
  const ops = () => new Api(cluster.url(), cluster.token('ops', 'operator'));

  /** Each connection of the vhost: its broker node and the name the client gave it (`role:nodeId`). */
  async function connections(): Promise<{ broker: RabbitNode | undefined; name: string }[]> {
    const rows = JSON.parse(await running()[0]!.ctl('list_connections', '-p', iso.vhost, 'port', 'client_properties', '--formatter', 'json')) as { port: number; client_properties: [string, string, unknown][] }[];
    return rows.map((r) => ({ broker: nodeOnPort(r.port), name: String(r.client_properties.find(([k]) => k === 'connection_name')?.[2] ?? '') }));
  }

  /** The broker nodes of a quorum queue's Raft group, and the one leading it. */
  async function raftGroupOf(queue: string): Promise<{ leader: RabbitNode; members: string[] }> {
    const rows = await waitFor(async () => JSON.parse(await running()[0]!.ctl('list_queues', '-p', iso.vhost, 'name', 'leader', 'members', '--formatter', 'json')) as { name: string; leader: string; members: string[] }[],
      (r) => r.some((q) => q.name === queue && q.leader), { what: `a leader of ${queue}` });
    const q = rows.find((r) => r.name === queue)!;
    return { leader: rc!.nodes.find((n) => n.name === q.leader)!, members: q.members };
  }

  const lostLines = (n: NodeProcess) => n.jsonLogs().filter((l) => l['msg'] === 'broker connection lost').length;

  const succeeded = async () => (await statusCounts(iso.databaseUrl))['succeeded'] ?? 0;
  const moreSucceed = async (from: number, what: string) => { await waitFor(succeeded, (n) => n >= from + 20, { timeoutMs: 60_000, what }); };

  /**
   * Stops a broker node; once each process that was connected to it has noticed, waits until every
   * process is ready again on the other brokers and each principal answers.
   */
  async function loseBroker(node: RabbitNode, why: string): Promise<void> {
    const names = (await connections()).filter((c) => c.broker === node).map((c) => c.name);
    const onIt = nodes.filter((n) => names.includes(`${n.role}:${n.id}`));
    const linesBefore = new Map(onIt.map((n) => [n, lostLines(n)]));
    await node.stop();
    stopped.add(node);
    const stoppedAt = Date.now();
    await waitFor(() => onIt.filter((n) => lostLines(n) > linesBefore.get(n)!).length, (k) => k === onIt.length, { timeoutMs: 20_000, what: `${onIt.map((n) => n.id).join(', ')} noticing the loss` });
    await waitFor(() => Promise.all(nodes.map((n) => n.readyStatus())), (s) => s.every((x) => x === 200), { timeoutMs: 30_000, intervalMs: 100, what: `every process ready without ${node.name}` })
      .catch(async (err: Error) => {
        const states = await Promise.all(nodes.map((n) => n.readyStatus()));
        const notReady = nodes.filter((_, i) => states[i] !== 200).map((n) => `${n.id}:\n${n.logs.slice(-6).join('\n')}`);
        throw new Error(`${err.message}\n${notReady.join('\n')}`);
      });
    report(`${why} (${onIt.length} processes connected to it) stopped → every process ready on the other brokers`, Date.now() - stoppedAt);
    for (const p of nodes.filter((n) => n.role === 'principal')) assert.equal((await new Api(cluster.url(p), cluster.token('ops', 'operator')).get('/cluster')).status, 200, `${p.id} serves REST`);
  }

  it('keeps every accepted task, completes none twice and keeps serving while the leader\'s broker and the pending queue\'s leader are stopped', async () => {
    const stream = startTaskStream({ principals: () => nodes.filter((n) => n.role === 'principal'), token: cluster.token('alice', 'submitter'), everyMs: 40 });
    await waitFor(() => statusCounts(iso.databaseUrl), (c) => (c['succeeded'] ?? 0) >= 20, { timeoutMs: 30_000, what: 'work under way' });

    const leader = (await waitFor(() => ops().get('/cluster'), (r) => !!r.body.leader, { what: 'a leader' })).body.leader.id as string;
    const leadersBroker = (await waitFor(() => connections(), (cs) => cs.some((c) => c.name === `principal:${leader}` && c.broker), { what: `the broker of ${leader}` }))
      .find((c) => c.name === `principal:${leader}`)!.broker!;
    let done = await succeeded();
    await loseBroker(leadersBroker, `the broker of leader ${leader}`);
    // Back before the next loss: two of three nodes down would leave no quorum queue a majority.
    await Promise.all([moreSucceed(done, `work going on without ${leadersBroker.name}`), leadersBroker.start()]);
    stopped.delete(leadersBroker);

    const pending = topologyNames(iso.prefix).pendingFor(5);
    const group = await raftGroupOf(pending);
    assert.equal(group.members.length, 3, 'AMQP_QUORUM_GROUP_SIZE replicas');
    done = await succeeded();
    await loseBroker(group.leader, `the leader of ${pending}`);
    await moreSucceed(done, `work going on without ${group.leader.name}`);

    const stats = await stream.stop();
    assert.deepEqual(stats.refused, [], 'every submission was answered 201');
    const statuses = await waitFor(() => statusesOf(iso.databaseUrl, stats.accepted), (m) => m.size === stats.accepted.length && [...m.values()].every((s) => ['succeeded', 'failed', 'cancelled'].includes(s)),
      { timeoutMs: 90_000, intervalMs: 500, what: `all ${stats.accepted.length} accepted tasks terminal` });
    assert.deepEqual([...statuses].filter(([, s]) => s !== 'succeeded'), [], 'every accepted task succeeded');
    assert.deepEqual([...monitor!.completions].filter(([, n]) => n > 1), [], 'no task completed twice');

    const targets = new Set(rc!.nodes.map((n) => `127.0.0.1:${n.amqpPort}`));
    for (const n of nodes) {
      assert.ok(n.alive, `${n.id} still runs`);
      const connects = n.jsonLogs().filter((l) => l['msg'] === 'broker connected' || l['msg'] === 'broker reconnected');
      assert.ok(connects.length > 0 && connects.every((l) => targets.has(l['broker'] as string)), `${n.id} says which broker it is connected to, by host and port`);
      assert.equal(n.logs.some((l) => l.includes('amqp://')), false, `${n.id} never logs a broker URL`);
    }
  });
});
