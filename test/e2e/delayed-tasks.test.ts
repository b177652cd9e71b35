import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { leaderViews, oneLeader } from '../helpers/leaders';
import { waitFor } from '../helpers/wait';

/** The contract: a due task is running or done within about a second of its runAt; this bound is generous for a loaded test machine. */
const START_BOUND_MS = 3000;
const FAST = { HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', TASK_LEASE_MS: '3000', SWEEP_INTERVAL_MS: '500', PRINCIPAL_QUEUE_DEPTH_INTERVAL_MS: '200' };

const isDone = (t: any) => ['succeeded', 'failed', 'cancelled'].includes(t?.status);

/** Asserts that a finished task started no sooner than its runAt and within the bound after it. */
function startedOnTime(t: any): void {
  assert.equal(t.status, 'succeeded', JSON.stringify(t));
  const late = Date.parse(t.startedAt) - Date.parse(t.runAt);
  assert.ok(late >= 0, `started ${-late} ms before its runAt (${t.runAt}, started ${t.startedAt})`);
  assert.ok(late < START_BOUND_MS, `started ${late} ms after its runAt`);
}

/** One value of a metric without labels, as a node serves it. */
async function metric(node: NodeProcess, name: string): Promise<number> {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(await node.metrics());
  return m ? Number(m[1]) : Number.NaN;
}

describe('delayed tasks and durable retry backoff (real processes)', function () {
  this.timeout(180_000);

  describe('on one cluster', () => {
    let iso: Isolation;
    let cluster: TestCluster;
    let principal: NodeProcess;
    let api: Api;

    before(async () => {
      iso = await createIsolation('delayed');
      cluster = new TestCluster(iso, FAST);
      principal = await cluster.start('principal');
      await cluster.start('an');
      await cluster.start('ki', { env: { KI_SLOTS: '4' } });
      const ops = new Api(cluster.url(), cluster.token('ops', 'operator'));
      await waitFor(() => ops.get('/nodes'), (r) => r.body.items.some((n: any) => n.role === 'ki' && n.status === 'alive' && n.group), { what: 'a Ki in a group' });
      api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    });

    after(async () => {
      await cluster?.stopAll();
      await iso?.destroy();
    });

    const task = async (id: string) => (await api.get(`/tasks/${id}`)).body;
    const finished = (id: string) => waitFor(() => task(id), isDone, { timeoutMs: 30_000, intervalMs: 50, what: `task ${id} finished` });

    it('holds a delayed task scheduled until its runAt, then runs it within the bound', async () => {
      const r = await api.post('/tasks', { type: 'echo', payload: { x: 1 }, delayMs: 2000 });
      assert.equal(r.status, 201);
      assert.equal(r.body.status, 'scheduled');
      const runAtMs = Date.parse(r.body.runAt);
      assert.ok(Math.abs(runAtMs - (Date.now() + 2000)) < 1000, `runAt is about now + 2 s: ${r.body.runAt}`);
      const listed = await api.get('/tasks?status=scheduled');
      assert.ok(listed.body.items.some((t: any) => t.id === r.body.id && t.runAt === r.body.runAt), 'listed under status=scheduled, with its runAt');
      await waitFor(() => metric(principal, 'anki_tasks_scheduled'), (n) => n >= 1, { what: 'the leader counts the scheduled backlog' });
      const waiting = await task(r.body.id);
      if (Date.now() < runAtMs - 200) assert.equal(waiting.status, 'scheduled', 'not started before its runAt');
      startedOnTime(await finished(r.body.id));
      assert.ok((await principal.metrics()).match(/^anki_task_release_lateness_seconds_count (\d+)$/m)?.[1] !== '0', 'its lateness observed');
    });

    it('runs a batch of mixed delays each at its time: none, a delay, a runAt ahead and a runAt in the past', async () => {
      const now = Date.now();
      const r = await api.post('/tasks/batch', { tasks: [
        { type: 'echo', payload: 'now' },
        { type: 'echo', payload: 'delay', delayMs: 1500 },
        { type: 'echo', payload: 'at', runAt: new Date(now + 3000).toISOString().replace('Z', '+00:00') },
        { type: 'echo', payload: 'past', runAt: '2001-01-01T00:00:00Z' },
      ] });
      assert.equal(r.status, 201);
      const [plain, delayed, at, past] = await Promise.all((r.body.ids as string[]).map(finished));
      assert.equal(plain.runAt, null);
      assert.equal(plain.status, 'succeeded');
      assert.ok(Date.parse(plain.startedAt) < Date.parse(delayed.runAt), 'the undelayed task did not wait for the others');
      startedOnTime(delayed);
      startedOnTime(at);
      assert.equal(Date.parse(at.runAt), Date.parse(new Date(now + 3000).toISOString()), 'runAt kept as the instant asked for');
      assert.equal(past.status, 'succeeded');
      assert.ok(Date.parse(past.startedAt) - now < START_BOUND_MS, 'a runAt in the past is due at once');
      assert.ok(Date.parse(delayed.startedAt) < Date.parse(at.startedAt));
    });

    it('cancels a scheduled task, which then never runs; changes a scheduled task\'s priority', async () => {
      const a = await api.post('/tasks', { type: 'echo', payload: 'cancel me', delayMs: 1500 });
      const b = await api.post('/tasks', { type: 'echo', payload: 'reprioritise me', delayMs: 1500, priority: 2 });
      const patched = await api.request('PATCH', `/tasks/${b.body.id}`, { priority: 4 });
      assert.equal(patched.status, 200);
      assert.deepEqual([patched.body.status, patched.body.priority], ['scheduled', 4]);
      const cancelled = await api.post(`/tasks/${a.body.id}/cancel`);
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.body.status, 'cancelled');
      // Past its runAt and the other task's run: the cancelled one stayed cancelled, never dispatched.
      startedOnTime(await finished(b.body.id));
      assert.equal((await finished(b.body.id)).priority, 4);
      await new Promise((r) => setTimeout(r, 1000));
      const after = await task(a.body.id);
      assert.deepEqual([after.status, after.attempts, after.startedAt], ['cancelled', 0, null]);
    });

    it('refuses runAt and delayMs together, and a runAt past the horizon, naming the fields', async () => {
      const both = await api.post('/tasks', { type: 'echo', runAt: new Date().toISOString(), delayMs: 5 });
      assert.equal(both.status, 400);
      assert.equal(both.body.field, 'runAt');
      assert.match(both.body.detail, /runAt or delayMs/);
      const far = await api.post('/tasks/batch', { tasks: [{ type: 'echo' }, { type: 'echo', runAt: '2999-01-01T00:00:00Z' }] });
      assert.equal(far.status, 400);
      assert.equal(far.body.field, 'tasks.1.runAt');
    });
  });

  describe('recovery', () => {
    let iso: Isolation;
    let cluster: TestCluster;
    let server: Server | undefined;

    afterEach(async () => {
      await cluster?.stopAll();
      await iso?.destroy();
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      server = undefined;
    });

    it('keeps a retry backoff through a kill -9 of the An that ran the attempt: the task still succeeds', async () => {
      // An inference endpoint that answers 503 (retryable) to the first call of each job, 200 after.
      const calls = new Map<string, number>();
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => { body += c.toString(); });
        req.on('end', () => {
          const job = String((JSON.parse(body || '{}') as { job?: string }).job);
          const n = (calls.get(job) ?? 0) + 1;
          calls.set(job, n);
          res.writeHead(n === 1 ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ job, call: n }));
        });
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      iso = await createIsolation('backoffkill');
      cluster = new TestCluster(iso, { ...FAST, RETRY_BASE_MS: '4000', AN_DISPATCH_RECORD_DELAY_MS: '0' });
      await cluster.start('principal');
      const an = await cluster.start('an', { id: 'an1' });
      await cluster.start('ki', { id: 'ki1', env: { KI_HTTP_ENDPOINT: endpoint } });
      const ops = new Api(cluster.url(), cluster.token('ops', 'operator'));
      await waitFor(() => ops.get('/nodes'), (r) => r.body.items.some((n: any) => n.role === 'ki' && n.status === 'alive' && n.group === 'an1'), { what: 'ki1 in an1' });
      const api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
      const r = await api.post('/tasks', { type: 'http', payload: { job: 'j1' }, maxAttempts: 3 });
      assert.equal(r.status, 201);

      const backoff = await waitFor(async () => (await api.get(`/tasks/${r.body.id}`)).body, (t) => t.status === 'scheduled', { timeoutMs: 30_000, intervalMs: 50, what: 'the first attempt failed, the task in its backoff' });
      assert.deepEqual([backoff.attempts, backoff.error?.code, backoff.an, backoff.ki], [1, 'HTTP_STATUS', null, null]);
      assert.ok(Date.parse(backoff.runAt) > Date.now(), 'its retry is due later');
      await an.kill('SIGKILL');
      await cluster.start('an', { id: 'an2' });

      const done = await waitFor(async () => (await api.get(`/tasks/${r.body.id}`)).body, isDone, { timeoutMs: 60_000, intervalMs: 200, what: 'the task finished after its An was killed' });
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
      assert.equal(done.attempts, 2, 'one retry, no more');
      assert.equal(done.an, 'an2');
      assert.ok(Date.parse(done.startedAt) >= Date.parse(backoff.runAt), 'the retry waited out its backoff');
      assert.equal(calls.get('j1'), 2);
    });

    it('runs every scheduled task once after the leader is killed while they wait', async () => {
      iso = await createIsolation('delayedfailover');
      cluster = new TestCluster(iso, { ...FAST, ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000' });
      const ps = [await cluster.start('principal', { id: 'p1' }), await cluster.start('principal', { id: 'p2' })];
      await cluster.start('an');
      await cluster.start('ki', { env: { KI_SLOTS: '4' } });
      const views = await waitFor(() => leaderViews(cluster, ps), oneLeader, { timeoutMs: 20_000, what: 'one leader' });
      const leader = ps.find((p) => p.id === views.leading[0])!;
      const follower = ps.find((p) => p !== leader)!;
      const ops = new Api(cluster.url(follower), cluster.token('ops', 'operator'));
      await waitFor(() => ops.get('/nodes'), (r) => r.body.items.some((n: any) => n.role === 'ki' && n.status === 'alive' && n.group), { what: 'a Ki in a group' });
      const api = new Api(cluster.url(follower), cluster.token('alice', 'submitter'));
      const r = await api.post('/tasks/batch', { tasks: Array.from({ length: 20 }, (_, i) => ({ type: 'echo', payload: i, delayMs: 1500 + i * 50 })) });
      assert.equal(r.status, 201);
      await leader.kill('SIGKILL');

      const ids = r.body.ids as string[];
      const tasks = await waitFor(() => Promise.all(ids.map(async (id) => (await api.get(`/tasks/${id}`)).body)), (ts) => ts.every(isDone), { timeoutMs: 60_000, intervalMs: 300, what: 'all 20 tasks finished' });
      for (const t of tasks) {
        assert.equal(t.status, 'succeeded', JSON.stringify(t));
        assert.equal(t.attempts, 1, `task ${t.id} dispatched once`);
        assert.ok(Date.parse(t.startedAt) >= Date.parse(t.runAt), `task ${t.id} not started before its runAt`);
      }
      assert.ok(await metric(follower, 'anki_task_release_lateness_seconds_count') >= 1, 'the new leader released them');
    });
  });
});
