import { strict as assert } from 'node:assert';
import { startEventMonitor } from '../../scripts/chaos/event-monitor';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { leaderViews, oneLeader } from '../helpers/leaders';
import { statusCounts, taskOutcomes } from '../helpers/task-db';
import { TcpProxy } from '../helpers/tcp-proxy';
import { waitFor } from '../helpers/wait';

const DEAD_AFTER_MS = 2000;
const FAST = {
  KI_SLOTS: '4', HEARTBEAT_MS: '250', SUSPECT_AFTER_MS: '800', DEAD_AFTER_MS: String(DEAD_AFTER_MS), TASK_LEASE_MS: '9000', SWEEP_INTERVAL_MS: '500',
  ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000', CLUSTER_RESUME_GRACE_MS: '2000', AMQP_RECONNECT_MAX_DELAY_MS: '500',
};
const TASKS = 160;
/** When the leader looks again at a silent An's leases: one renewal period (TASK_LEASE_MS / 3) and a half after it turned dead. */
const SILENT_AN_CHECK_MS = 4500;

const terminal = (c: Record<string, number>) => (c['succeeded'] ?? 0) + (c['failed'] ?? 0) + (c['cancelled'] ?? 0);
/** The fault lasts this long more: the cut-off node's own view passes the dead time. */
const hold = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a node cut off from the broker (its AMQP connection through a proxy, cut or frozen)', function () {
  this.timeout(180_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let proxy: TcpProxy;
  let monitor: Awaited<ReturnType<typeof startEventMonitor>> | undefined;

  beforeEach(async () => {
    iso = await createIsolation('cutoff');
    proxy = new TcpProxy(5672);
    await proxy.start();
    cluster = new TestCluster(iso, FAST);
    monitor = await startEventMonitor(iso);
  });

  afterEach(async () => {
    proxy?.restore();
    await monitor?.stop().catch(() => undefined);
    await cluster?.stopAll();
    await proxy?.stop();
    await iso?.destroy();
  });

  const viaProxy = () => ({ AMQP_URL: iso.amqpUrl.replace(':5672/', `:${proxy.port}/`) });
  const ops = (p: NodeProcess) => new Api(cluster.url(p), cluster.token('ops', 'operator'));
  const nodeStatus = async (seenBy: NodeProcess, id: string) => ((await ops(seenBy).get('/nodes')).body.items as { id: string; status: string }[]).find((n) => n.id === id)?.status;

  async function startKis(seenBy: NodeProcess, groups: readonly string[]): Promise<void> {
    for (const id of ['ki1', 'ki2', 'ki3']) await cluster.start('ki', { id });
    await waitFor(async () => (await ops(seenBy).get('/nodes')).body.items.filter((n: any) => n.role === 'ki' && n.status === 'alive' && groups.includes(n.group)).length, (n) => n === 3, { timeoutMs: 30_000, what: 'three Kis in a group' });
  }

  /** Submits the load through `via` and waits until it is under way. */
  async function submitLoad(via: NodeProcess): Promise<void> {
    const alice = new Api(cluster.url(via), cluster.token('alice', 'submitter'));
    const r = await alice.post('/tasks/batch', { tasks: Array.from({ length: TASKS }, (_, i) => ({ type: 'sleep', payload: { ms: 300 + (i % 4) * 100 } })) });
    assert.equal(r.status, 201);
    await waitFor(() => statusCounts(iso.databaseUrl), (c) => (c['succeeded'] ?? 0) >= 20, { timeoutMs: 30_000, what: 'work under way' });
  }

  /** Every task finished, each once and in its first attempt: no Ki stopped, so nothing had to run again. */
  async function assertEachRanOnce(): Promise<void> {
    const counts = await waitFor(() => statusCounts(iso.databaseUrl), (c) => terminal(c) === TASKS, { timeoutMs: 90_000, intervalMs: 300, what: 'every task terminal' });
    assert.equal(counts['succeeded'], TASKS, JSON.stringify(counts));
    const retried = (await taskOutcomes(iso.databaseUrl)).filter((t) => t.attempts !== 1);
    assert.deepEqual(retried.map((t) => `${t.id} attempts=${t.attempts}`), [], 'no task ran again because of the cut-off node\'s own outage');
    assert.deepEqual([...monitor!.completions].filter(([, n]) => n > 1), [], 'no task completed twice');
  }

  for (const fault of ['cut', 'freeze'] as const) {
    it(`a leader whose connection is ${fault === 'cut' ? 'cut' : 'frozen (half-open)'} steps down and judges nobody; another leads meanwhile, exactly one after`, async () => {
      const p1 = await cluster.start('principal', { id: 'p1', env: viaProxy() });
      await waitFor(() => leaderViews(cluster, [p1]), (v) => v.leading[0] === 'p1', { what: 'p1 leads' });
      const p2 = await cluster.start('principal', { id: 'p2' });
      await cluster.start('an', { id: 'an1' });
      await cluster.start('an', { id: 'an2' });
      await startKis(p2, ['an1', 'an2']);
      await submitLoad(p2);

      if (fault === 'cut') proxy.cut();
      else proxy.freeze();
      await waitFor(() => leaderViews(cluster, [p2]), (v) => v.leading[0] === 'p2' && v.reported[0] === 'p2', { timeoutMs: 20_000, what: 'p2 leads while p1 is cut off' });
      await waitFor(() => nodeStatus(p2, 'p1'), (s) => s === 'dead', { timeoutMs: 20_000, what: 'p1 silent for the dead time' });
      await hold(DEAD_AFTER_MS);
      proxy.restore();

      await waitFor(() => leaderViews(cluster, [p1, p2]), oneLeader, { timeoutMs: 30_000, what: 'exactly one leader once p1 is back' });
      await assertEachRanOnce();
      await waitFor(() => leaderViews(cluster, [p1, p2]), oneLeader, { timeoutMs: 30_000, what: 'still exactly one leader' });
    });
  }

  it('an An whose connection is cut keeps its Kis and its tasks: their results wait for it, nothing runs twice', async () => {
    const p1 = await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1', env: viaProxy() });
    await startKis(p1, ['an1']);
    await submitLoad(p1);

    proxy.cut();
    await waitFor(() => nodeStatus(p1, 'an1'), (s) => s === 'dead', { timeoutMs: 20_000, what: 'an1 silent for the dead time' });
    // Cut off until the leader has looked at the silent An's leases (a renewal period and a half
    // later; it logs that they still move), or for as long as that would take.
    const checkedBy = Date.now() + SILENT_AN_CHECK_MS + 2000;
    await waitFor(() => p1.jsonLogs().some((l) => l['msg'] === 'An silent on the broker still renews its leases: its tasks stay with it') || Date.now() > checkedBy, Boolean, { timeoutMs: 30_000 });
    proxy.restore();

    await assertEachRanOnce();
  });
});
