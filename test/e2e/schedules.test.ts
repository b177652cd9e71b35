import { strict as assert } from 'node:assert';
import pg from 'pg';
import { CapturedOutput, runClientCommand } from '../../src/cli/client';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { leaderViews, oneLeader } from '../helpers/leaders';
import { waitFor } from '../helpers/wait';

const FAST = { HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', TASK_LEASE_MS: '4000', SWEEP_INTERVAL_MS: '500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000' };
const TICK_MS = 1000;
/** A figure for the record: measured, never asserted. */
const report = (what: string, value: number | string) => console.log(`      measured: ${what} ${value}`);

interface ScheduledTaskRow { id: string; schedule_id: string | null; tick: number; status: string }

/** Every task of a schedule, straight from the database, by tick time. */
async function tasksOfSchedule(databaseUrl: string, scheduleId: string): Promise<ScheduledTaskRow[]> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ id: string; schedule_id: string | null; tick: Date; status: string }>(
      'SELECT id::text AS id, schedule_id::text AS schedule_id, schedule_tick_at AS tick, status FROM tasks WHERE schedule_id = $1::uuid ORDER BY schedule_tick_at', [scheduleId]);
    return r.rows.map((x) => ({ ...x, tick: x.tick.getTime() }));
  } finally {
    await c.end();
  }
}

describe('cron schedules (real processes)', function () {
  this.timeout(240_000);
  let iso: Isolation;
  let cluster: TestCluster;

  beforeEach(async () => {
    iso = await createIsolation('sched');
    cluster = new TestCluster(iso, FAST);
  });
  afterEach(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  const every = (name: string, extra: Record<string, unknown> = {}) => ({ name, cron: '* * * * * *', timezone: 'UTC', overlap: 'allow', catchup: 'none', task: { type: 'echo', payload: { from: name } }, ...extra });

  it('runs an every-second schedule once per tick across a kill -9 of the leader, with no gap and no duplicate tick, and pauses and resumes', async () => {
    const ps = [await cluster.start('principal', { id: 'p1' }), await cluster.start('principal', { id: 'p2' }), await cluster.start('principal', { id: 'p3' })];
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    await waitFor(() => leaderViews(cluster, ps), oneLeader, { timeoutMs: 20_000, what: 'one leader' });
    const leaderId = (await leaderViews(cluster, ps)).leading[0]!;
    const leader = ps.find((p) => p.id === leaderId)!;
    const survivor = ps.find((p) => p !== leader)!;
    const alice = new Api(cluster.url(survivor), cluster.token('alice', 'submitter'));

    const created = await alice.post('/schedules', every('heartbeat'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    assert.ok(created.body.nextRunAt);
    await waitFor(() => tasksOfSchedule(iso.databaseUrl, id), (rows) => rows.length >= 4, { what: 'four runs before the kill' });

    const killedAt = Date.now();
    await leader.kill('SIGKILL');
    const survivors = ps.filter((p) => p !== leader);
    await waitFor(() => leaderViews(cluster, survivors), oneLeader, { timeoutMs: 20_000, intervalMs: 100, what: 'a new leader' });
    const newLeaderAt = Date.now();
    report('leader failover (kill -9 → new leader)', `${newLeaderAt - killedAt} ms`);
    await waitFor(() => tasksOfSchedule(iso.databaseUrl, id), (rows) => rows.some((r) => r.tick > newLeaderAt + 3 * TICK_MS), { timeoutMs: 20_000, what: 'runs under the new leader' });

    const paused = await alice.post(`/schedules/${id}/pause`);
    assert.equal(paused.status, 200);
    assert.equal(paused.body.paused, true);
    const pausedAt = Date.now();
    const atPause = await tasksOfSchedule(iso.databaseUrl, id);

    // No tick is run twice, and every task says which schedule and tick it stands for.
    const ticks = atPause.map((r) => r.tick);
    assert.equal(new Set(ticks).size, ticks.length, `duplicate ticks: ${ticks.join(',')}`);
    assert.ok(atPause.every((r) => r.schedule_id === id));
    assert.ok(ticks.every((t) => t % TICK_MS === 0), 'ticks fall on whole seconds');
    const sample = await alice.get(`/tasks/${atPause.at(-1)!.id}`);
    assert.equal(sample.body.scheduleId, id);
    assert.equal(Date.parse(sample.body.scheduleTickAt), atPause.at(-1)!.tick);

    // No gap either: the ticks a failover held back run once the new leader leads, so the runs
    // are every whole second from the first to the pause, the failover included.
    const gaps = ticks.slice(1).map((t, i) => ({ from: ticks[i]!, gap: t - ticks[i]! })).filter((g) => g.gap !== TICK_MS);
    assert.deepEqual(gaps.map((g) => `${g.gap} ms after ${new Date(g.from).toISOString()}`), [], `ticks missing around a failover of ${newLeaderAt - killedAt} ms`);
    assert.ok(ticks[0]! < killedAt - TICK_MS && ticks.at(-1)! > newLeaderAt, 'the runs span the failover');

    // Paused: nothing new. (A run claimed just before the pause may still land.)
    await new Promise((r) => setTimeout(r, 3 * TICK_MS));
    const whilePaused = await tasksOfSchedule(iso.databaseUrl, id);
    assert.ok(whilePaused.every((r) => r.tick <= pausedAt), 'no run for a tick after the pause');
    const view = await alice.get(`/schedules/${id}`);
    assert.equal(view.body.nextRunAt, null);
    assert.equal(view.body.runs.created, whilePaused.length);
    assert.equal(view.body.lastRun.outcome, 'created');

    const resumed = await alice.post(`/schedules/${id}/resume`);
    assert.equal(resumed.status, 200);
    const resumedAt = Date.now();
    const after = await waitFor(() => tasksOfSchedule(iso.databaseUrl, id), (rows) => rows.filter((r) => r.tick > resumedAt).length >= 2, { what: 'runs after resume' });
    assert.ok(after.every((r) => r.tick <= pausedAt || r.tick > resumedAt), 'ticks that fell while paused are not run');
    assert.equal(new Set(after.map((r) => r.tick)).size, after.length);
    const done = await waitFor(() => tasksOfSchedule(iso.databaseUrl, id), (rows) => rows.slice(0, -3).every((r) => r.status === 'succeeded'), { timeoutMs: 30_000, what: 'scheduled tasks run' });
    assert.ok(done.length > 0);
  });

  it('records skipped runs while the previous task runs, keeps schedules to their owner and refuses what is invalid', async () => {
    const p = await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    const alice = new Api(cluster.url(p), cluster.token('alice', 'submitter'));
    const bob = new Api(cluster.url(p), cluster.token('bob', 'submitter'));
    const viewer = new Api(cluster.url(p), cluster.token('alice', 'viewer'));
    const admin = new Api(cluster.url(p), cluster.token('root', 'admin'));

    const slow = await alice.post('/schedules', every('slow', { overlap: 'skip', task: { type: 'sleep', payload: { ms: 3500 } } }));
    assert.equal(slow.status, 201, JSON.stringify(slow.body));
    const id = slow.body.id as string;
    const seen = await waitFor(() => alice.get(`/schedules/${id}`), (r) => r.body.runs.skippedOverlap >= 2 && r.body.runs.created >= 1, { timeoutMs: 20_000, what: 'skipped runs' });
    assert.ok(seen.body.lastRun);
    // While one run's task sleeps, no second one starts: the tasks never overlap in time.
    await alice.post(`/schedules/${id}/pause`);
    const rows = await tasksOfSchedule(iso.databaseUrl, id);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i]!.tick - rows[i - 1]!.tick >= 3500, `runs ${rows[i - 1]!.tick} and ${rows[i]!.tick} overlap`);
    assert.match(await p.metrics(), /anki_schedule_runs_total\{outcome="skipped-overlap"\} [1-9]/);
    assert.match(await p.metrics(), /anki_schedule_runs_total\{outcome="created"\} [1-9]/);

    // Another owner sees nothing of it; a viewer may read but not create; an admin sees all.
    for (const [method, path] of [['GET', `/schedules/${id}`], ['PATCH', `/schedules/${id}`], ['DELETE', `/schedules/${id}`], ['POST', `/schedules/${id}/resume`]] as const) {
      const r = await bob.request(method, path, method === 'PATCH' ? { name: 'mine' } : undefined);
      assert.equal(r.status, 404, `${method} ${path} by another owner`);
    }
    assert.deepEqual((await bob.get('/schedules')).body.items, []);
    assert.equal((await viewer.post('/schedules', every('nope'))).status, 403);
    assert.equal((await viewer.get(`/schedules/${id}`)).status, 200);
    assert.equal((await admin.get(`/schedules/${id}`)).status, 200);

    // Bad definitions are 400s naming the field; the task is held to the caller's ceilings.
    const bad = async (body: unknown, field: string) => {
      const r = await alice.post('/schedules', body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.field, field);
    };
    await bad(every('x', { cron: '61 * * * *' }), 'cron');
    await bad(every('x', { timezone: 'Nowhere/Atlantis' }), 'timezone');
    await bad(every('x', { overlap: 'queue' }), 'overlap');
    await bad(every('x', { task: { type: 'echo', priority: 9 } }), 'task.priority');

    // Idempotency-Key: the same owner and key answer 200 with the first schedule.
    const once = await alice.post('/schedules', every('idem', { catchup: 'latest' }), { 'idempotency-key': 'idem-1' });
    const twice = await alice.post('/schedules', every('idem', { catchup: 'latest' }), { 'idempotency-key': 'idem-1' });
    assert.equal(once.status, 201);
    assert.equal(twice.status, 200);
    assert.equal(twice.body.id, once.body.id);

    // PATCH changes the definition; DELETE removes it.
    const patched = await alice.request('PATCH', `/schedules/${once.body.id}`, { cron: '0 0 1 1 *', timezone: 'Europe/Berlin' });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.cron, '0 0 1 1 *');
    assert.equal(new Date(patched.body.nextRunAt).getUTCHours(), 23, 'midnight in Berlin is 23:00Z in winter');
    assert.equal((await alice.request('DELETE', `/schedules/${once.body.id}`)).status, 204);
    assert.equal((await alice.get(`/schedules/${once.body.id}`)).status, 404);

    // The CLI lists and shows them.
    const env = { ANKI_URL: cluster.url(p), ANKI_TOKEN: cluster.token('alice', 'submitter') };
    const out = new CapturedOutput();
    assert.equal(await runClientCommand('schedule', ['list', '--json'], env, out), 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout).items.map((s: any) => s.id), [id]);
    const created = new CapturedOutput();
    assert.equal(await runClientCommand('schedule', ['create', '--name', 'cli', '--cron', '0 3 * * *', '--type', 'echo', '--json'], env, created), 0, created.stderr);
    const cliId = JSON.parse(created.stdout).id as string;
    const shown = new CapturedOutput();
    assert.equal(await runClientCommand('schedule', ['pause', cliId], env, shown), 0, shown.stderr);
    assert.match(shown.stdout, /state\s+paused/);
    assert.equal(await runClientCommand('schedule', ['delete', cliId], env, new CapturedOutput()), 0);
  });
});
