import { strict as assert } from 'node:assert';
import { startEventMonitor } from '../../scripts/chaos/event-monitor';
import { TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { skipUnlessRabbitNodes, startRabbitCluster, type RabbitCluster } from '../helpers/rabbit-nodes';
import { statusCounts, statusesOf } from '../helpers/task-db';
import { startTaskStream } from '../helpers/task-stream';
import { reportMeasured as report, waitFor } from '../helpers/wait';


/**
 * RabbitMQ itself stopped and started (`stop_app` / `start_app`) while tasks stream in. The broker is
 * an extra node of this test's own: the machine's shared broker is never stopped.
 */
describe('RabbitMQ stopped and started under load (real processes, a broker node of its own)', function () {
  this.timeout(180_000);
  let rc: RabbitCluster | undefined;
  let iso: Isolation;
  let cluster: TestCluster;
  let monitor: Awaited<ReturnType<typeof startEventMonitor>> | undefined;
  let nodes: NodeProcess[] = [];

  before(async function () {
    skipUnlessRabbitNodes(this, 'RabbitMQ stopped and started under load');
    const startedAt = Date.now();
    [rc, iso] = await Promise.all([startRabbitCluster(1, 'r'), createIsolation('mqrestart')]);
    report('one extra RabbitMQ node started', Date.now() - startedAt);
    await rc.addVhost(iso.vhost);
    const amqpUrl = rc.amqpUrls(iso.vhost);
    cluster = new TestCluster(iso, { AMQP_URL: amqpUrl, AMQP_RECONNECT_MAX_DELAY_MS: '1000', SWEEP_INTERVAL_MS: '500' });
    nodes = await Promise.all([
      cluster.start('principal', { id: 'p1' }), cluster.start('an', { id: 'an1' }), cluster.start('ki', { id: 'ki1', env: { KI_SLOTS: '4' } }), cluster.start('ki', { id: 'ki2', env: { KI_SLOTS: '4' } }),
    ]);
    monitor = await startEventMonitor({ amqpUrl, prefix: iso.prefix });
  });

  after(async () => {
    await monitor?.stop();
    await cluster?.stopAll();
    await iso?.destroy();
    await rc?.destroy();
  });

  it('loses no accepted task, completes none twice, and every node is ready again once RabbitMQ is back', async () => {
    const broker = rc!.nodes[0]!;
    const stream = startTaskStream({ principals: () => nodes.filter((n) => n.role === 'principal'), token: cluster.token('alice', 'submitter'), everyMs: 40 });
    await waitFor(() => statusCounts(iso.databaseUrl), (c) => (c['succeeded'] ?? 0) >= 20, { timeoutMs: 30_000, what: 'work under way' });

    await broker.stopApp();
    const stoppedAt = Date.now();
    await waitFor(() => Promise.all(nodes.map((n) => n.readyStatus())), (s) => s.every((x) => x === 503), { timeoutMs: 20_000, what: 'every node not ready without its broker' });
    // Admission keeps answering: a task is stored first, and the sweeper publishes it once the broker is back.
    const acceptedBefore = stream.stats.accepted.length;
    await waitFor(() => stream.stats.accepted.length, (n) => n >= acceptedBefore + 10, { timeoutMs: 20_000, what: 'submissions accepted while RabbitMQ is down' });

    await broker.startApp();
    const startedAt = Date.now();
    await waitFor(() => Promise.all(nodes.map((n) => n.readyStatus())), (s) => s.every((x) => x === 200), { timeoutMs: 30_000, intervalMs: 100, what: 'every node ready again' });
    report(`RabbitMQ down (stop_app → start_app)`, startedAt - stoppedAt);
    report('RabbitMQ back → every node ready', Date.now() - startedAt);
    const doneBefore = (await statusCounts(iso.databaseUrl))['succeeded'] ?? 0;
    await waitFor(() => statusCounts(iso.databaseUrl), (c) => (c['succeeded'] ?? 0) >= doneBefore + 20, { timeoutMs: 30_000, what: 'work going on after the restart' });
    const stats = await stream.stop();

    assert.deepEqual(stats.refused, [], 'every submission was answered 201');
    const statuses = await waitFor(() => statusesOf(iso.databaseUrl, stats.accepted), (m) => [...m.values()].every((s) => ['succeeded', 'failed', 'cancelled'].includes(s)) && m.size === stats.accepted.length,
      { timeoutMs: 60_000, intervalMs: 500, what: `all ${stats.accepted.length} accepted tasks terminal` });
    const notSucceeded = [...statuses].filter(([, s]) => s !== 'succeeded');
    assert.deepEqual(notSucceeded, [], 'every accepted task succeeded');
    assert.deepEqual([...monitor!.completions].filter(([, n]) => n > 1), [], 'no task completed twice');
    for (const n of nodes) {
      assert.ok(n.alive, `${n.id} still runs`);
      assert.ok(n.jsonLogs().some((l) => l['msg'] === 'broker reconnected' && l['broker'] === `127.0.0.1:${broker.amqpPort}`), `${n.id} logged its reconnect and where to`);
    }
  });
});
