import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { startEventMonitor } from '../../scripts/chaos/event-monitor';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { leaderViews, oneLeader } from '../helpers/leaders';
import { statusCounts, taskOutcomes } from '../helpers/task-db';
import { reportMeasured as report, waitFor } from '../helpers/wait';

const LEADER_LEASE_MS = 2000;
const FAST = {
  KI_SLOTS: '4', HEARTBEAT_MS: '250', SUSPECT_AFTER_MS: '800', DEAD_AFTER_MS: '2000', TASK_LEASE_MS: '9000', SWEEP_INTERVAL_MS: '500',
  ELECTION_TICK_MS: '300', LEADER_LEASE_MS: String(LEADER_LEASE_MS), CLUSTER_RESUME_GRACE_MS: '2000', AMQP_RECONNECT_MAX_DELAY_MS: '500',
};
const WHERE_PLUGIN = join(__dirname, '..', 'fixtures', 'ki', 'plugins', 'where.js');
/** What only a leader does, as its log lines say. */
const LEADER_ACTIONS = ['assigning ki to group', 'tasks of a dead An requeued', 'expired leases swept', 'republished unpublished tasks', 'node token issued', 'became leader'];

const terminal = (c: Record<string, number>) => (c['succeeded'] ?? 0) + (c['failed'] ?? 0) + (c['cancelled'] ?? 0);
/** The freeze lasts this long more. */
const hold = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('frozen nodes (SIGSTOP, then SIGCONT)', function () {
  this.timeout(180_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let monitor: Awaited<ReturnType<typeof startEventMonitor>> | undefined;

  beforeEach(async () => {
    iso = await createIsolation('frozen');
    cluster = new TestCluster(iso, FAST);
    monitor = await startEventMonitor(iso);
  });

  afterEach(async () => {
    // A stopped process would not see the SIGTERM of stopAll.
    for (const n of cluster?.nodes ?? []) if (n.alive) n.proc.kill('SIGCONT');
    await monitor?.stop().catch(() => undefined);
    await cluster?.stopAll();
    await iso?.destroy();
  });

  const ops = (p: NodeProcess) => new Api(cluster.url(p), cluster.token('ops', 'operator'));
  const nodeStatus = async (seenBy: NodeProcess, id: string) => ((await ops(seenBy).get('/nodes')).body.items as { id: string; status: string }[]).find((n) => n.id === id)?.status;
  const kisIn = async (seenBy: NodeProcess, group: string) => (await ops(seenBy).get('/nodes')).body.items.filter((n: any) => n.role === 'ki' && n.status === 'alive' && n.group === group).length;
  const noDoubleCompletion = () => assert.deepEqual([...monitor!.completions].filter(([, n]) => n > 1), [], 'no task completed twice');

  it('a leader frozen past its lease is replaced, and once it runs again it acts on nothing: exactly one leader, every task done once', async () => {
    const p1 = await cluster.start('principal', { id: 'p1' });
    await waitFor(() => leaderViews(cluster, [p1]), (v) => v.leading[0] === 'p1', { what: 'p1 leads' });
    const p2 = await cluster.start('principal', { id: 'p2' });
    await cluster.start('an', { id: 'an1' });
    for (const id of ['ki1', 'ki2', 'ki3']) await cluster.start('ki', { id });
    await waitFor(() => kisIn(p2, 'an1'), (n) => n === 3, { timeoutMs: 30_000, what: 'three Kis in an1' });
    const alice = new Api(cluster.url(p2), cluster.token('alice', 'submitter'));
    const tasks = 160;
    assert.equal((await alice.post('/tasks/batch', { tasks: Array.from({ length: tasks }, (_, i) => ({ type: 'sleep', payload: { ms: 300 + (i % 4) * 100 } })) })).status, 201);
    await waitFor(() => statusCounts(iso.databaseUrl), (c) => (c['succeeded'] ?? 0) >= 20, { timeoutMs: 30_000, what: 'work under way' });

    const frozenAt = Date.now();
    p1.proc.kill('SIGSTOP');
    await waitFor(() => leaderViews(cluster, [p2]), (v) => v.leading[0] === 'p2' && v.reported[0] === 'p2', { timeoutMs: 30_000, intervalMs: 50, what: 'p2 leads while p1 is frozen' });
    report('leader handover (SIGSTOP → new leader visible)', Date.now() - frozenAt);
    await waitFor(() => nodeStatus(p2, 'p1'), (s) => s === 'dead', { timeoutMs: 20_000, what: 'p1 silent for the dead time' });
    await hold(LEADER_LEASE_MS);
    const resumedAt = Date.now();
    p1.proc.kill('SIGCONT');

    await waitFor(() => leaderViews(cluster, [p1, p2]), (v) => oneLeader(v) && v.leading[0] === 'p2', { timeoutMs: 30_000, what: 'p2 the one leader, p1 running again' });
    const counts = await waitFor(() => statusCounts(iso.databaseUrl), (c) => terminal(c) === tasks, { timeoutMs: 90_000, intervalMs: 300, what: 'every task terminal' });
    assert.equal(counts['succeeded'], tasks, JSON.stringify(counts));
    const retried = (await taskOutcomes(iso.databaseUrl)).filter((t) => t.attempts !== 1);
    assert.deepEqual(retried.map((t) => t.id), [], 'no task ran again: the woken leader judged no An dead');
    noDoubleCompletion();
    const actedAfterWaking = p1.jsonLogs().filter((l) => Date.parse(String(l['time'])) >= resumedAt && LEADER_ACTIONS.includes(String(l['msg'])));
    assert.deepEqual(actedAfterWaking, [], 'the woken leader acted on nothing');
    assert.ok(oneLeader(await leaderViews(cluster, [p1, p2])), 'still exactly one leader');
  });

  it('the tasks of a frozen Ki run again elsewhere, and its late results change nothing once it runs again', async () => {
    const p1 = await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1' });
    const kis: NodeProcess[] = [];
    for (const id of ['ki1', 'ki2', 'ki3']) kis.push(await cluster.start('ki', { id, env: { KI_HANDLERS: WHERE_PLUGIN } }));
    await waitFor(() => kisIn(p1, 'an1'), (n) => n === 3, { timeoutMs: 30_000, what: 'three Kis in an1' });
    const alice = new Api(cluster.url(p1), cluster.token('alice', 'submitter'));
    const tasks = 12;
    assert.equal((await alice.post('/tasks/batch', { tasks: Array.from({ length: tasks }, () => ({ type: 'where', payload: { ms: 4000 } })) })).status, 201);
    const frozen = kis[0]!;
    const onFrozen = await waitFor(async () => (await taskOutcomes(iso.databaseUrl)).filter((t) => t.status === 'running' && t.ki === frozen.id), (ts) => ts.length > 0, { what: `tasks running on ${frozen.id}` });
    const resultsSent = async () => Number(/^anki_batch_items_sum\{batch="result"\} (\S+)$/m.exec(await frozen.metrics())?.[1] ?? 0);
    const sentBefore = await resultsSent();

    frozen.proc.kill('SIGSTOP');
    const ids = new Set(onFrozen.map((t) => t.id));
    const rerun = await waitFor(async () => (await taskOutcomes(iso.databaseUrl)).filter((t) => ids.has(t.id)), (ts) => ts.every((t) => t.status === 'succeeded'), { timeoutMs: 60_000, intervalMs: 300, what: 'the frozen Ki\'s tasks done elsewhere' });
    frozen.proc.kill('SIGCONT');
    // Its runs end (their timers are long overdue) and it reports them to the An.
    await waitFor(resultsSent, (n) => n >= sentBefore + ids.size, { timeoutMs: 30_000, what: 'the late results sent' });
    await waitFor(() => nodeStatus(p1, frozen.id), (s) => s === 'alive', { timeoutMs: 20_000, what: `${frozen.id} alive again` });

    const counts = await waitFor(() => statusCounts(iso.databaseUrl), (c) => terminal(c) === tasks, { timeoutMs: 60_000, intervalMs: 300, what: 'every task terminal' });
    assert.equal(counts['succeeded'], tasks, JSON.stringify(counts));
    const after = (await taskOutcomes(iso.databaseUrl)).filter((t) => ids.has(t.id));
    for (const t of after) {
      const before = rerun.find((r) => r.id === t.id)!;
      assert.deepEqual([t.status, t.attempts, t.ki, t.result], [before.status, before.attempts, before.ki, before.result], 'unchanged by the late result');
      assert.notEqual(t.ki, frozen.id);
      assert.deepEqual(t.result, { ki: t.ki, attempt: t.attempts }, 'the rerun\'s result');
      assert.ok(t.attempts >= 2);
    }
    noDoubleCompletion();
  });
});
