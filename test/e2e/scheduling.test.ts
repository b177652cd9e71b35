import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { mapLimit, waitFor } from '../helpers/wait';

const FAST = { HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000' };
const PLUGIN = join(__dirname, '..', 'fixtures', 'ki', 'plugins', 'square.js');
const gpuList = (...mem: number[]) => JSON.stringify(mem.map((m, i) => ({ index: i, uuid: `GPU-fake-${m}-${i}`, name: `Fake ${m / 1024}G`, memoryMiB: m })));
const terminal = (s: string) => ['succeeded', 'failed', 'cancelled'].includes(s);

describe('scheduling and execution (real processes, fake GPU lists)', function () {
  this.timeout(180_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let alice: Api;
  let admin: Api;

  const until = (id: string, pred: (t: any) => boolean, what = 'task state', timeoutMs = 30_000) => waitFor(() => alice.get(`/tasks/${id}`), (r) => pred(r.body), { timeoutMs, what }).then((r) => r.body);

  afterEach(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  async function boot(env: Record<string, string> = {}) {
    iso = await createIsolation('sched');
    cluster = new TestCluster(iso, { ...FAST, ...env });
    await cluster.start('principal', { id: 'p1' });
    alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    admin = alice.as(cluster.token('root', 'admin'));
  }
  const kisReady = (n: number) => waitFor(() => admin.get('/nodes'), (r) => r.body.items.filter((k: any) => k.role === 'ki' && k.status === 'alive' && k.group).length === n, { what: `${n} Kis in groups` });

  it('places GPU tasks where they fit best and fails at once what no Ki could ever run', async () => {
    await boot();
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'big', env: { KI_GPUS: gpuList(81920), KI_HANDLERS: PLUGIN, KI_SLOTS: '4' } });
    await cluster.start('ki', { id: 'small', env: { KI_GPUS: gpuList(24576, 24576), KI_HANDLERS: PLUGIN, KI_SLOTS: '4' } });
    await kisReady(2);
    const nodes = (await admin.get('/nodes')).body.items;
    assert.equal(nodes.find((n: any) => n.id === 'big').gpus[0].memoryMiB, 81920, 'GPUs are shown in /nodes');

    const fitsSmall = await alice.post('/tasks', { type: 'square', payload: { n: 3 }, requirements: { gpus: 1, gpuMemoryMiB: 20000 } });
    const t1 = await until(fitsSmall.body.id, (t) => terminal(t.status));
    assert.equal(t1.status, 'succeeded');
    assert.equal(t1.ki, 'small', 'a 20 GiB task goes to the 24 GiB GPU, keeping the 80 GiB one free');
    assert.deepEqual(t1.result, { n: 3, square: 9, gpus: [0] });

    const needsBig = await alice.post('/tasks', { type: 'square', payload: { n: 4 }, requirements: { gpus: 1, gpuMemoryMiB: 40000 } });
    assert.equal((await until(needsBig.body.id, (t) => terminal(t.status))).ki, 'big');

    const twoGpus = await alice.post('/tasks', { type: 'square', payload: { n: 5 }, requirements: { gpus: 2, gpuMemoryMiB: 10000 } });
    const t3 = await until(twoGpus.body.id, (t) => terminal(t.status));
    assert.equal(t3.ki, 'small');
    assert.deepEqual(t3.result.gpus, [0, 1], 'a two-GPU task gets both GPUs, visible to it');

    const never = await alice.post('/tasks', { type: 'square', payload: { n: 1 }, requirements: { gpus: 1, gpuMemoryMiB: 100_000 } });
    const t4 = await until(never.body.id, (t) => terminal(t.status));
    assert.equal(t4.status, 'failed');
    assert.equal(t4.error.code, 'UNSATISFIABLE');
    assert.match(t4.error.message, /100000 MiB/);

    const unknown = await alice.post('/tasks', { type: 'no-such-type', payload: {} });
    assert.match((await until(unknown.body.id, (t) => terminal(t.status))).error.message, /no Ki runs task type "no-such-type"/);
  });

  it('hands a task on to the An whose group can run it', async () => {
    await boot();
    await cluster.start('an', { id: 'an1' });
    await cluster.start('an', { id: 'an2' });
    await cluster.start('ki', { id: 'plain', env: { AN_GROUP: '', KI_GROUP: 'an1' } });
    await cluster.start('ki', { id: 'labelled', env: { KI_GROUP: 'an2', KI_LABELS: 'fast-disk' } });
    await kisReady(2);
    const ids = await mapLimit(Array.from({ length: 10 }, (_, i) => i), 5, async (i) => (await alice.post('/tasks', { type: 'echo', payload: i, requirements: { labels: ['fast-disk'] } })).body.id as string);
    for (const id of ids) {
      const t = await until(id, (x) => terminal(x.status));
      assert.equal(t.status, 'succeeded');
      assert.equal(t.ki, 'labelled');
      assert.equal(t.an, 'an2');
    }
  });

  it('runs higher priorities first and keeps two task types within 20 % of each other', async () => {
    // alice (a submitter) uses priority 9: above the submitter's default ceiling of 5.
    await boot({ TASK_LIMITS: '{"submitter":{"maxPriority":9}}' });
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1', env: { KI_SLOTS: '1', KI_HANDLERS: PLUGIN } });
    await kisReady(1);
    // Occupy the only slot so a backlog builds up behind it.
    const blocker = await alice.post('/tasks', { type: 'sleep', payload: { ms: 1500 } });
    await until(blocker.body.id, (t) => t.status === 'running');
    const low = await alice.post('/tasks/batch', { tasks: Array.from({ length: 5 }, () => ({ type: 'echo', priority: 1, payload: 'low' })) });
    const high = await alice.post('/tasks/batch', { tasks: Array.from({ length: 5 }, () => ({ type: 'echo', priority: 9, payload: 'high' })) });
    const all = [...low.body.ids, ...high.body.ids];
    const done = await Promise.all(all.map((id: string) => until(id, (t) => terminal(t.status))));
    const order = done.sort((a, b) => Date.parse(a.finishedAt) - Date.parse(b.finishedAt)).map((t) => t.payload);
    assert.deepEqual(order.slice(0, 5), ['high', 'high', 'high', 'high', 'high'], `order: ${order.join(',')}`);

    // Fairness: 60 of type echo are queued before 60 of type square; completions interleave.
    const blocker2 = await alice.post('/tasks', { type: 'sleep', payload: { ms: 1500 } });
    await until(blocker2.body.id, (t) => t.status === 'running');
    const a = await alice.post('/tasks/batch', { tasks: Array.from({ length: 60 }, (_, i) => ({ type: 'echo', payload: i })) });
    const b = await alice.post('/tasks/batch', { tasks: Array.from({ length: 60 }, (_, i) => ({ type: 'square', payload: { n: i } })) });
    const finished = await Promise.all([...a.body.ids, ...b.body.ids].map((id: string) => until(id, (t) => terminal(t.status))));
    const sorted = finished.sort((x, y) => Date.parse(x.finishedAt) - Date.parse(y.finishedAt) || x.updatedAt.localeCompare(y.updatedAt));
    const firstHalf = sorted.slice(0, 60);
    const echoes = firstHalf.filter((t) => t.type === 'echo').length;
    const squares = firstHalf.filter((t) => t.type === 'square').length;
    assert.ok(Math.abs(echoes - squares) <= 0.2 * 30, `first 60 completions: ${echoes} echo, ${squares} square`);
  });

  it('runs allowlisted commands only, and cancels a running process promptly', async () => {
    await boot();
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1', env: { KI_EXEC_ALLOWLIST: JSON.stringify({ echo: '/bin/echo', sleep: '/bin/sleep' }), KI_KILL_GRACE_MS: '500' } });
    await kisReady(1);
    const ok = await alice.post('/tasks', { type: 'exec', payload: { command: 'echo', args: ['hello', 'gpu'] } });
    const t1 = await until(ok.body.id, (t) => terminal(t.status));
    assert.equal(t1.status, 'succeeded');
    assert.equal(t1.result.stdout, 'hello gpu\n');
    assert.equal(t1.result.exitCode, 0);
    const refused = await alice.post('/tasks', { type: 'exec', payload: { command: '/bin/sh', args: ['-c', 'id'] } });
    const t2 = await until(refused.body.id, (t) => terminal(t.status));
    assert.equal(t2.status, 'failed');
    assert.equal(t2.error.code, 'EXEC_NOT_ALLOWED');
    const long = await alice.post('/tasks', { type: 'exec', payload: { command: 'sleep', args: ['30'] } });
    await until(long.body.id, (t) => t.status === 'running');
    const cancelled = await alice.post(`/tasks/${long.body.id}/cancel`);
    assert.equal(cancelled.body.status, 'cancelled');
    const ki = cluster.nodes.find((n) => n.id === 'ki1')!;
    await waitFor(() => ki.jsonLogs(), (l) => l.some((x) => x['taskId'] === long.body.id && x['msg'] === 'attempt failed'), { what: 'the process ended on the Ki' });
    const timeout = await alice.post('/tasks', { type: 'exec', timeoutMs: 300, payload: { command: 'sleep', args: ['30'] } });
    const t4 = await until(timeout.body.id, (t) => terminal(t.status));
    assert.equal(t4.error.code, 'TIMEOUT');
  });

  it('retries a retryable failure with backoff up to maxAttempts and shows progress while running', async () => {
    await boot();
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    await kisReady(1);
    const flaky = await alice.post('/tasks', { type: 'fail', maxAttempts: 3, payload: { message: 'try again', retryable: true } });
    const t = await until(flaky.body.id, (x) => terminal(x.status));
    assert.equal(t.status, 'failed');
    assert.equal(t.attempts, 3, 'every attempt was used');
    assert.equal(t.error.message, 'try again', 'the last error is kept');
    // A loaded machine may take long over the rounds: neither the task's timeout nor the wait may be what ends it.
    const cpu = await alice.post('/tasks', { type: 'cpu', timeoutMs: 300_000, payload: { rounds: 2_000_000 } });
    const running = await until(cpu.body.id, (x) => terminal(x.status) || (x.status === 'running' && x.progress?.fraction > 0), 'progress', 60_000);
    if (running.status === 'running') assert.ok(running.progress.fraction > 0 && running.progress.fraction < 1);
    const done = await until(cpu.body.id, (x) => terminal(x.status), 'the cpu task finished', 120_000);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.result.rounds, 2_000_000);
  });

  it('agrees on redundant results, quarantines the Ki that lied, and lets an admin release it', async () => {
    await boot({ LIAR_NODE_ID: 'liar' });
    await cluster.start('an', { id: 'an1' });
    for (const id of ['honest1', 'honest2', 'liar']) await cluster.start('ki', { id, env: { KI_HANDLERS: PLUGIN, KI_SLOTS: '2' } });
    await kisReady(3);
    // Each disagreement costs the liar reputation; the second puts it in quarantine.
    for (const n of [7, 8]) {
      const r = await alice.post('/tasks', { type: 'square', payload: { n }, redundancy: { replicas: 3, quorum: 2 } });
      const t = await until(r.body.id, (x) => terminal(x.status));
      assert.equal(t.status, 'succeeded');
      assert.equal(t.result.square, n * n, 'the majority answer wins');
    }
    const nodes = await waitFor(() => admin.get('/nodes'), (x) => x.body.items.some((n: any) => n.id === 'liar' && n.quarantined), { what: 'liar quarantined' });
    assert.ok(!nodes.body.items.find((n: any) => n.id === 'honest1').quarantined);
    const q = await alice.post('/tasks', { type: 'square', payload: { n: 2 }, redundancy: { replicas: 2, quorum: 2 } });
    const t2 = await until(q.body.id, (x) => terminal(x.status));
    assert.equal(t2.result.square, 4);
    assert.ok(!t2.ki.split(',').includes('liar'), 'a quarantined Ki takes no new work');
    assert.equal((await alice.post('/nodes/liar/release')).status, 403, 'only an admin may release');
    assert.equal((await admin.post('/nodes/liar/release')).status, 200);
    await waitFor(() => admin.get('/nodes'), (x) => x.body.items.some((n: any) => n.id === 'liar' && !n.quarantined), { what: 'liar released' });
  });
});
