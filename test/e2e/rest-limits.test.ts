import { strict as assert } from 'node:assert';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';

/**
 * Self-service ceilings (TASK_LIMITS) and the shape of GET /tasks against a real principal. No An
 * runs, so every task stays queued and only the requests change it.
 */
describe('REST: per-role task limits and list pages', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let alice: Api;
  let admin: Api;

  before(async () => {
    iso = await createIsolation('restLimits');
    // alice may use 512 bytes of payload; everything else is the submitter default.
    cluster = new TestCluster(iso, { TASK_LIMITS: '{"submitter":{"maxPayloadBytes":512}}', TASK_LIST_MAX_BYTES: '4096' });
    await cluster.start('principal', { id: 'p1' });
    alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    admin = alice.as(cluster.token('root', 'admin'));
  });
  after(async () => { await cluster?.stopAll(); await iso?.destroy(); });

  const refusedOver = (r: { status: number; body: any }, field: string, ceiling: number) => {
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.field, field);
    assert.equal(r.body.ceiling, ceiling);
    assert.match(r.body.detail, new RegExp(`${field.replace(/\./g, '\\.')}: at most ${ceiling}`));
  };

  it('refuses a submitter asking for more than the default ceilings, naming the field and the ceiling', async () => {
    refusedOver(await alice.post('/tasks', { type: 'echo', priority: 9 }), 'priority', 5);
    refusedOver(await alice.post('/tasks', { type: 'echo', maxAttempts: 50 }), 'maxAttempts', 5);
    refusedOver(await alice.post('/tasks', { type: 'echo', timeoutMs: 24 * 3600 * 1000 }), 'timeoutMs', 3_600_000);
    refusedOver(await alice.post('/tasks', { type: 'echo', redundancy: { replicas: 8, quorum: 2 } }), 'redundancy.replicas', 3);
    refusedOver(await alice.post('/tasks', { type: 'echo', payload: 'x'.repeat(600) }), 'payload', 512);
    refusedOver(await alice.post('/tasks/batch', { tasks: [{ type: 'echo' }, { type: 'echo', priority: 7 }] }), 'tasks.1.priority', 5);
    const mine = await admin.get('/tasks?owner=alice');
    assert.deepEqual(mine.body.items, [], 'nothing was stored');
  });

  it('lets a submitter use its ceilings and an admin the API\'s own bounds', async () => {
    assert.equal((await alice.post('/tasks', { type: 'echo', priority: 5, maxAttempts: 5, timeoutMs: 3_600_000, redundancy: { replicas: 3, quorum: 2 } })).status, 201);
    assert.equal((await admin.post('/tasks', { type: 'echo', priority: 9, maxAttempts: 50, payload: 'x'.repeat(600) })).status, 201);
  });

  it('refuses a PATCH to a priority above the caller\'s ceiling', async () => {
    const r = await alice.post('/tasks', { type: 'echo', priority: 1 });
    refusedOver(await alice.request('PATCH', `/tasks/${r.body.id}`, { priority: 9 }), 'priority', 5);
    assert.equal((await admin.request('PATCH', `/tasks/${r.body.id}`, { priority: 9 })).body.priority, 9);
  });

  it('lists tasks without payload and result unless asked for', async () => {
    await alice.post('/tasks', { type: 'echo', payload: { secret: 'prompt' } });
    const plain = await alice.get('/tasks?limit=5');
    assert.equal(plain.status, 200);
    assert.ok(plain.body.items.length > 0);
    for (const item of plain.body.items) assert.ok(!('payload' in item) && !('result' in item), JSON.stringify(item));
    const full = await alice.get('/tasks?limit=5&include=payload,result');
    assert.deepEqual(full.body.items[0].payload, { secret: 'prompt' });
    assert.ok('result' in full.body.items[0]);
    assert.equal((await alice.get('/tasks?include=everything')).status, 400);
  });

  it('ends a page early when its JSON passes the byte limit, and the cursor goes on from there', async () => {
    for (let i = 0; i < 12; i++) assert.equal((await admin.post('/tasks', { type: 'echo', payload: 'y'.repeat(1000) })).status, 201);
    const first = await admin.get('/tasks?limit=50&owner=root&include=payload');
    assert.ok(first.body.items.length >= 1 && first.body.items.length < 12, `page of ${first.body.items.length}`);
    assert.ok(Buffer.byteLength(JSON.stringify(first.body.items)) <= 4096 + 1500);
    assert.ok(first.body.nextCursor, 'a short page still says where to go on');
    const seen = new Set(first.body.items.map((t: any) => t.id));
    let cursor: string | null = first.body.nextCursor;
    while (cursor) {
      const page = await admin.get(`/tasks?limit=50&owner=root&include=payload&cursor=${cursor}`);
      for (const t of page.body.items) { assert.ok(!seen.has(t.id), 'no task twice'); seen.add(t.id); }
      cursor = page.body.nextCursor;
    }
    assert.ok(seen.size >= 13, `saw ${seen.size}`);
  });
});
