import { strict as assert } from 'node:assert';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { mapLimit, waitFor } from '../helpers/wait';

type Kind = 'echo' | 'sleep' | 'fail';

describe('a task travels principal → An → Ki and back (real processes, RabbitMQ, PostgreSQL)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let principal: NodeProcess;
  let alice: Api;
  let admin: Api;

  before(async () => {
    iso = await createIsolation('lifecycle');
    cluster = new TestCluster(iso, { MAX_BODY_BYTES: '4096', KI_SLOTS: '4' });
    principal = await cluster.start('principal');
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    await cluster.start('ki', { id: 'ki2' });
    alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    admin = alice.as(cluster.token('root', 'admin'));
    await waitFor(() => admin.get('/nodes'), (r) => r.body.items.filter((n: { role: string; status: string }) => n.role === 'ki' && n.status === 'alive').length === 2, { what: 'two Kis alive' });
  });

  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  it('runs 200 mixed tasks to their correct terminal state on both Kis', async () => {
    const kinds: Kind[] = Array.from({ length: 200 }, (_, i) => (['echo', 'sleep', 'fail'] as const)[i % 3]!);
    const bodyOf = (kind: Kind, i: number) =>
      kind === 'echo' ? { type: 'echo', payload: { i, text: `héllo ${i}` } }
        : kind === 'sleep' ? { type: 'sleep', payload: { ms: 20 + (i % 5) * 20 } }
          : { type: 'fail', payload: { message: `boom ${i}` } };
    const submitted = await mapLimit(kinds, 16, async (kind, i) => {
      const r = await alice.post('/tasks', bodyOf(kind, i));
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.headers.get('location'), `/tasks/${r.body.id}`);
      assert.equal(r.body.status, 'queued');
      return { id: r.body.id as string, kind, i };
    });

    const finished = await waitFor(async () => {
      const all = await mapLimit(submitted, 16, async (s) => (await alice.get(`/tasks/${s.id}`)).body);
      return all;
    }, (all) => all.every((t: { status: string }) => ['succeeded', 'failed', 'cancelled'].includes(t.status)), { timeoutMs: 60_000, intervalMs: 500, what: '200 tasks terminal' });

    const kis = new Set<string>();
    finished.forEach((t: any, n: number) => {
      const s = submitted[n]!;
      assert.equal(t.id, s.id);
      assert.equal(t.an, 'an1');
      assert.ok(t.ki === 'ki1' || t.ki === 'ki2', `ki of ${t.id} is ${t.ki}`);
      kis.add(t.ki);
      assert.ok(t.startedAt && t.finishedAt, 'timings recorded');
      if (s.kind === 'echo') {
        assert.equal(t.status, 'succeeded');
        assert.deepEqual(t.result, { i: s.i, text: `héllo ${s.i}` });
      } else if (s.kind === 'sleep') {
        assert.equal(t.status, 'succeeded');
        assert.deepEqual(t.result, { slept: 20 + (s.i % 5) * 20 });
      } else {
        assert.equal(t.status, 'failed');
        assert.equal(t.error.message, `boom ${s.i}`);
        assert.equal(t.attempts, 1, 'a non-retryable failure is not retried');
      }
    });
    assert.deepEqual([...kis].sort(), ['ki1', 'ki2'], 'both Kis did work');
  });

  it('lists tasks newest first with a cursor and filters by status', async () => {
    const first = await alice.get('/tasks?limit=5&status=succeeded');
    assert.equal(first.status, 200);
    assert.equal(first.body.items.length, 5);
    assert.ok(first.body.nextCursor);
    const second = await alice.get(`/tasks?limit=5&status=succeeded&cursor=${first.body.nextCursor}`);
    const ids = new Set(first.body.items.map((t: { id: string }) => t.id));
    for (const t of second.body.items) assert.ok(!ids.has(t.id), 'pages do not overlap');
    const times = [...first.body.items, ...second.body.items].map((t: { createdAt: string }) => Date.parse(t.createdAt));
    assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
    for (const t of first.body.items) assert.equal(t.status, 'succeeded');
  });

  it('accepts a batch of tasks all at once', async () => {
    const r = await alice.post('/tasks/batch', { tasks: [{ type: 'echo', payload: 1 }, { type: 'echo', task_data: 2 }] });
    assert.equal(r.status, 201);
    assert.equal(r.body.ids.length, 2);
    const t = await waitFor(() => alice.get(`/tasks/${r.body.ids[1]}`), (x) => x.body.status === 'succeeded');
    assert.equal(t.body.result, 2, 'task_data is an alias of payload');
  });

  it('answers the same task for a repeated Idempotency-Key', async () => {
    const a = await alice.post('/tasks', { type: 'echo', payload: 'once' }, { 'Idempotency-Key': 'key-1' });
    const b = await alice.post('/tasks', { type: 'echo', payload: 'once' }, { 'Idempotency-Key': 'key-1' });
    assert.equal(a.status, 201);
    assert.equal(b.status, 200);
    assert.equal(b.body.id, a.body.id);
  });

  it('cancels a running task on its Ki and deletes tasks', async () => {
    const r = await alice.post('/tasks', { type: 'sleep', payload: { ms: 60_000 } });
    await waitFor(() => alice.get(`/tasks/${r.body.id}`), (x) => x.body.status === 'running', { what: 'sleep running' });
    const c = await alice.post(`/tasks/${r.body.id}/cancel`);
    assert.equal(c.status, 200);
    assert.equal(c.body.status, 'cancelled');
    const ki = cluster.nodes.find((n) => n.id === c.body.ki)!;
    await waitFor(() => ki.jsonLogs(), (lines) => lines.some((l) => l['msg'] === 'cancelling task' && l['taskId'] === r.body.id), { what: 'Ki aborted the task' });
    assert.equal((await alice.request('PATCH', `/tasks/${r.body.id}`, { priority: 1 })).status, 409, 'priority of a finished task cannot change');
    assert.equal((await alice.request('DELETE', `/tasks/${r.body.id}`)).status, 204);
    assert.equal((await alice.get(`/tasks/${r.body.id}`)).status, 404);
  });

  it('refuses bad requests with problem+json and the right status', async () => {
    const anon = new Api(cluster.url());
    const noToken = await anon.post('/tasks', { type: 'echo' });
    assert.equal(noToken.status, 401);
    assert.match(noToken.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(noToken.body.status, 401);

    const forged = await anon.as(cluster.token('alice', 'admin', 'not-the-secret-of-this-cluster-0123456789')).get('/tasks');
    assert.equal(forged.status, 401);

    const viewer = await alice.as(cluster.token('vera', 'viewer')).post('/tasks', { type: 'echo' });
    assert.equal(viewer.status, 403);

    const malformed = await alice.post('/tasks', '{"type": "echo",');
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.detail, /JSON/);

    const badField = await alice.post('/tasks', { type: 'echo', priority: 12 });
    assert.equal(badField.status, 400);
    assert.equal(badField.body.field, 'priority');

    const unknownField = await alice.post('/tasks', { type: 'echo', colour: 'blue' });
    assert.equal(unknownField.status, 400);

    const tooBig = await alice.post('/tasks', { type: 'echo', payload: 'x'.repeat(10_000) });
    assert.equal(tooBig.status, 413);

    assert.equal((await alice.get('/tasks/00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await alice.get('/tasks/not-a-uuid')).status, 404);

    const own = await alice.post('/tasks', { type: 'echo', payload: 'mine' });
    const bob = alice.as(cluster.token('bob', 'submitter'));
    assert.equal((await bob.get(`/tasks/${own.body.id}`)).status, 404, "another owner's task is not visible");
    assert.equal((await bob.get('/nodes')).status, 403, 'a submitter may not read nodes');
    const all = await admin.get('/tasks?owner=alice&limit=1');
    assert.equal(all.body.items[0].owner, 'alice', 'an admin reads everyone');
    assert.ok(principal.alive, 'bad input never crashes the principal');
  });

  it('shows the hierarchy in /nodes and /cluster', async () => {
    const nodes = await admin.get('/nodes');
    const byId = new Map(nodes.body.items.map((n: { id: string }) => [n.id, n]));
    for (const id of ['an1', 'ki1', 'ki2', principal.id]) assert.ok(byId.has(id), `${id} listed`);
    const ki1 = byId.get('ki1') as { status: string; slots: { total: number }; group: string; lastSeen: string };
    assert.equal(ki1.status, 'alive');
    assert.equal(ki1.slots.total, 4);
    const cluster_ = await admin.get('/cluster');
    assert.equal(cluster_.body.leader.id, principal.id);
    assert.ok(cluster_.body.leader.term >= 1);
    assert.equal(cluster_.body.nodes.ki.alive, 2);
  });

  it('exposes task counters on every node\'s /metrics', async () => {
    const text = await principal.metrics();
    assert.match(text, /anki_tasks_submitted_total \d+/);
    const an = cluster.nodes.find((n) => n.id === 'an1')!;
    const m = /anki_tasks_finished_total\{status="succeeded"\} (\d+)/.exec(await an.metrics());
    assert.ok(m && Number(m[1]) >= 100, 'An counted finished tasks');
  });
});
