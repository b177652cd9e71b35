import { strict as assert } from 'node:assert';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, rabbitmqctl, type Isolation } from '../helpers/isolation';
import { reportMeasured as report, waitFor } from '../helpers/wait';
import { statusCounts } from '../helpers/task-db';

const FAST = { KI_SLOTS: '4', HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', TASK_LEASE_MS: '4000', SWEEP_INTERVAL_MS: '500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000' };


const terminal = (c: Record<string, number>) => (c['succeeded'] ?? 0) + (c['failed'] ?? 0) + (c['cancelled'] ?? 0);

describe('cluster membership, election, assignment and recovery (real processes)', function () {
  this.timeout(240_000);
  let iso: Isolation;
  let cluster: TestCluster;

  beforeEach(async () => {
    iso = await createIsolation('cluster');
    cluster = new TestCluster(iso, FAST);
  });

  afterEach(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  const ops = (p?: NodeProcess) => new Api(cluster.url(p), cluster.token('ops', 'operator'));
  const kisIn = async (api: Api) => (await api.get('/nodes')).body.items.filter((n: any) => n.role === 'ki' && n.status === 'alive');

  it('elects one leader among three principals and fails over to a higher term when it is killed', async () => {
    const ps = [await cluster.start('principal', { id: 'p1' }), await cluster.start('principal', { id: 'p2' }), await cluster.start('principal', { id: 'p3' })];
    const first = await waitFor(() => ops(ps[0]).get('/cluster'), (r) => !!r.body.leader, { what: 'a leader' });
    const leader = ps.find((p) => p.id === first.body.leader.id)!;
    // Every principal agrees on the leader.
    for (const p of ps) await waitFor(() => ops(p).get('/cluster'), (r) => r.body.leader?.id === leader.id, { what: `${p.id} sees the leader` });
    const leaderMetrics = await leader.metrics();
    assert.match(leaderMetrics, /anki_leader 1/);
    const killedAt = Date.now();
    await leader.kill('SIGKILL');
    const survivors = ps.filter((p) => p !== leader);
    const next = await waitFor(() => ops(survivors[0]).get('/cluster'), (r) => !!r.body.leader && r.body.leader.id !== leader.id, { timeoutMs: 20_000, intervalMs: 50, what: 'a new leader' });
    report('leader failover (kill -9 → new leader visible)', Date.now() - killedAt);
    assert.ok(next.body.leader.term > first.body.leader.term, 'the new leader has a higher term');
    assert.ok(survivors.some((p) => p.id === next.body.leader.id));
    for (const p of survivors) {
      const submitted = await new Api(cluster.url(p), cluster.token('alice', 'submitter')).post('/tasks', { type: 'echo', payload: p.id });
      assert.equal(submitted.status, 201, 'followers keep serving REST');
    }
  });

  it('assigns Kis to An groups, rebalances when an An joins, and reassigns them when an An dies', async () => {
    await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1' });
    for (const id of ['ki1', 'ki2', 'ki3', 'ki4']) await cluster.start('ki', { id });
    const api = ops();
    await waitFor(() => kisIn(api), (kis) => kis.length === 4 && kis.every((k: any) => k.group === 'an1'), { what: 'all Kis in an1' });
    const an2 = await cluster.start('an', { id: 'an2' });
    const balanced = await waitFor(() => kisIn(api), (kis) => kis.filter((k: any) => k.group === 'an2').length === 2 && kis.filter((k: any) => k.group === 'an1').length === 2, { what: 'two Kis per An' });
    assert.equal(balanced.length, 4);
    const killedAt = Date.now();
    await an2.kill('SIGKILL');
    await waitFor(() => kisIn(api), (kis) => kis.every((k: any) => k.group === 'an1'), { timeoutMs: 20_000, intervalMs: 50, what: 'an2 Kis back in an1' });
    report('An death → its Kis reassigned', Date.now() - killedAt);
    const alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    const r = await alice.post('/tasks/batch', { tasks: Array.from({ length: 40 }, (_, i) => ({ type: 'echo', payload: i })) });
    await waitFor(() => statusCounts(iso.databaseUrl), (c) => c['succeeded'] === 40, { what: '40 tasks done' });
    assert.equal(r.body.ids.length, 40);
  });

  it('loses nothing when three of ten Kis are killed at once mid-run', async () => {
    await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1' });
    await cluster.start('an', { id: 'an2' });
    const kis: NodeProcess[] = [];
    for (let i = 1; i <= 10; i++) kis.push(await cluster.start('ki', { id: `ki${i}`, env: { KI_SLOTS: '2' } }));
    const api = ops();
    await waitFor(() => kisIn(api), (k) => k.length === 10 && k.every((x: any) => x.group === 'an1' || x.group === 'an2'), { timeoutMs: 30_000, what: 'ten Kis assigned' });
    const alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    await alice.post('/tasks/batch', { tasks: Array.from({ length: 200 }, (_, i) => ({ type: 'sleep', payload: { ms: 100 + (i % 5) * 20 } })) });
    await waitFor(() => statusCounts(iso.databaseUrl), (c) => (c['succeeded'] ?? 0) >= 30, { what: 'work under way' });
    const killedAt = Date.now();
    await Promise.all([kis[0]!, kis[3]!, kis[7]!].map((k) => k.kill('SIGKILL')));
    await waitFor(() => kisIn(api), (k) => k.length === 7, { timeoutMs: 20_000, intervalMs: 50, what: 'three Kis detected dead' });
    report('detection of 3 dead Kis', Date.now() - killedAt);
    const counts = await waitFor(() => statusCounts(iso.databaseUrl), (c) => terminal(c) === 200, { timeoutMs: 120_000, intervalMs: 300, what: '200 tasks terminal' });
    assert.equal(counts['succeeded'], 200, JSON.stringify(counts));
  });

  it('completes the run when the broker closes every connection mid-run', async () => {
    const p = await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    await cluster.start('ki', { id: 'ki2' });
    await waitFor(() => kisIn(ops()), (k) => k.length === 2 && k.every((x: any) => x.group === 'an1'), { what: 'Kis assigned' });
    const alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    await alice.post('/tasks/batch', { tasks: Array.from({ length: 200 }, (_, i) => ({ type: 'sleep', payload: { ms: 30 + (i % 4) * 10 } })) });
    await waitFor(() => statusCounts(iso.databaseUrl), (c) => (c['succeeded'] ?? 0) >= 20, { what: 'work under way' });
    await rabbitmqctl('close_all_connections', '--vhost', iso.vhost, 'chaos');
    const more = await waitFor(() => alice.post('/tasks/batch', { tasks: Array.from({ length: 50 }, () => ({ type: 'echo', payload: 'after' })) }), (r) => r.status === 201, { what: 'admission after the cut' });
    assert.equal(more.body.ids.length, 50);
    const counts = await waitFor(() => statusCounts(iso.databaseUrl), (c) => terminal(c) === 250, { timeoutMs: 90_000, intervalMs: 300, what: '250 tasks terminal' });
    assert.equal(counts['succeeded'], 250, JSON.stringify(counts));
    assert.match(await p.metrics(), /anki_amqp_reconnects_total [1-9]/);
  });

  it('lets a restarted Ki rejoin, get a group and take work', async () => {
    await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1' });
    const ki = await cluster.start('ki', { id: 'ki1' });
    await waitFor(() => kisIn(ops()), (k) => k.length === 1 && k[0].group === 'an1', { what: 'ki1 assigned' });
    await ki.kill('SIGKILL');
    await waitFor(() => ops().get('/nodes'), (r) => r.body.items.some((n: any) => n.id === 'ki1' && n.status === 'dead'), { what: 'ki1 dead' });
    const restarted = await cluster.start('ki', { id: 'ki1' });
    const startedAt = Date.now();
    await waitFor(() => kisIn(ops()), (k) => k.length === 1 && k[0].group === 'an1', { intervalMs: 50, what: 'ki1 back in a group' });
    report('restarted Ki → assigned to a group', Date.now() - startedAt);
    const alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    const t = await alice.post('/tasks', { type: 'echo', payload: 'again' });
    const done = await waitFor(() => alice.get(`/tasks/${t.body.id}`), (r) => r.body.status === 'succeeded');
    assert.equal(done.body.ki, 'ki1');
    assert.ok(restarted.alive);
  });
});
