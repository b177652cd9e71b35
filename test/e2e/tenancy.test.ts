import { strict as assert } from 'node:assert';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

const A_TASKS = 3000;
const B_TASKS = 100;
const FAKE_GPU = JSON.stringify([{ index: 0, uuid: 'GPU-fake-0', name: 'Fake', memoryMiB: 40960 }]);

/**
 * Tenants on one real cluster: a later tenant's tasks are not stuck behind an earlier tenant's
 * backlog, caps answer 429 naming the limit, and GPU-seconds are accounted per tenant.
 */
describe('tenants: weighted-fair dispatch, caps and GPU-seconds on a real cluster', function () {
  this.timeout(180_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let admin: Api;
  const as = (sub: string, tenant: string) => admin.as(cluster.token(sub, 'submitter', undefined, tenant));

  before(async () => {
    iso = await createIsolation('tenancy');
    cluster = new TestCluster(iso, { TENANT_PUBLISH_WINDOW: '64', TENANT_RELEASE_INTERVAL_MS: '100', HEARTBEAT_MS: '200' });
    await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1', env: { KI_SLOTS: '4', KI_GPUS: FAKE_GPU } });
    admin = new Api(cluster.url(), cluster.token('root', 'admin'));
    await waitFor(() => admin.get('/nodes'), (r) => r.body.items.some((n: any) => n.role === 'ki' && n.status === 'alive' && n.group), { what: 'a Ki in a group' });
  });
  after(async () => { await cluster?.stopAll(); await iso?.destroy(); });

  /** Every task of `owner`, read page by page. */
  async function tasksOf(owner: string): Promise<any[]> {
    const out: any[] = [];
    let cursor = '';
    for (;;) {
      const r = await admin.get(`/tasks?owner=${owner}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(r.status, 200);
      out.push(...r.body.items);
      if (!r.body.nextCursor) return out;
      cursor = r.body.nextCursor;
    }
  }

  const tenantRow = async (api: Api, name: string) => (await api.get('/tenants')).body.items.find((t: any) => t.name === name);

  it('starts a later tenant\'s tasks within the first completions, not after the earlier tenant\'s backlog', async () => {
    const a = as('alice', 'team-a');
    const b = as('bob', 'team-b');
    for (let i = 0; i < A_TASKS; i += 1000) assert.equal((await a.post('/tasks/batch', { tasks: Array.from({ length: 1000 }, () => ({ type: 'echo' })) })).status, 201);
    assert.equal((await b.post('/tasks/batch', { tasks: Array.from({ length: B_TASKS }, () => ({ type: 'echo' })) })).status, 201);
    const held = await tenantRow(admin, 'team-a');
    assert.ok(held.held > 0, `team-a has tasks held back from the broker (${JSON.stringify(held)})`);
    await waitFor(() => admin.get('/tenants'), (r) => r.body.items.filter((t: any) => t.name.startsWith('team-')).every((t: any) => t.queued + t.running === 0),
      { timeoutMs: 120_000, intervalMs: 500, what: 'every task of both tenants finished' });
    const all = [...(await tasksOf('alice')), ...(await tasksOf('bob'))];
    assert.equal(all.length, A_TASKS + B_TASKS);
    assert.ok(all.every((t) => t.status === 'succeeded'), 'nothing lost or failed');
    assert.ok(all.every((t) => t.tenant === (t.owner === 'alice' ? 'team-a' : 'team-b')), 'each task names its tenant');
    all.sort((x, y) => Date.parse(x.finishedAt) - Date.parse(y.finishedAt));
    const bIndexes = all.flatMap((t, i) => (t.owner === 'bob' ? [i] : []));
    const first = bIndexes[0]!, last = bIndexes.at(-1)!;
    console.log(`      team-b completions: first #${first}, last #${last} of ${all.length} (team-a submitted ${A_TASKS} first)`);
    assert.ok(first < all.length * 0.2, `team-b's first task completed at #${first}, within the first 20 % of completions`);
    assert.ok(last < all.length * 0.5, `team-b's last task completed at #${last}, long before team-a's backlog ended`);
  });

  it('lets only an admin set a tenant, and shows a submitter only its own tenant', async () => {
    const carol = as('carol', 'team-c');
    assert.equal((await carol.request('PUT', '/tenants/team-c', { maxQueued: 1000 })).status, 403);
    assert.equal((await admin.request('PUT', '/tenants/team-c', { weight: 0 })).status, 400);
    const set = await admin.request('PUT', '/tenants/team-c', { weight: 2, maxQueued: 5 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual([set.body.weight, set.body.maxQueued, set.body.maxRunning, set.body.gpuSecondsBudget], [2, 5, null, null]);
    const mine = await carol.get('/tenants');
    assert.deepEqual(mine.body.items.map((t: any) => t.name), ['team-c']);
    assert.equal((await admin.request('PUT', '/tenants/team-x', { weight: 3 })).status, 200);
    const every = (await admin.get('/tenants')).body.items.map((t: any) => t.name);
    assert.ok(every.includes('team-c') && every.includes('team-x'), `an admin sees every tenant (${every})`);
  });

  it('answers 429 with Retry-After, naming maxQueued, to a submission past the queued cap', async () => {
    const carol = as('carol', 'team-c');
    const r = await carol.post('/tasks/batch', { tasks: Array.from({ length: 6 }, () => ({ type: 'sleep', payload: { ms: 10 } })) });
    assert.equal(r.status, 429, JSON.stringify(r.body));
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.equal(r.body.limit, 'maxQueued');
    assert.match(r.body.detail, /maxQueued of 5/);
    assert.equal((await carol.post('/tasks/batch', { tasks: Array.from({ length: 5 }, () => ({ type: 'echo' })) })).status, 201, 'within the cap it is admitted');
  });

  it('runs no more of a tenant\'s tasks at once than its maxRunning', async () => {
    assert.equal((await admin.request('PUT', '/tenants/team-d', { maxRunning: 1 })).status, 200);
    const dave = as('dave', 'team-d');
    assert.equal((await dave.post('/tasks/batch', { tasks: Array.from({ length: 4 }, () => ({ type: 'sleep', payload: { ms: 400 } })) })).status, 201);
    await waitFor(() => tasksOf('dave'), (ts) => ts.length === 4 && ts.every((t) => t.status === 'succeeded'), { timeoutMs: 60_000, what: 'team-d\'s tasks done' });
    const runs = (await tasksOf('dave')).map((t) => [Date.parse(t.startedAt), Date.parse(t.finishedAt)] as const).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < runs.length; i++) assert.ok(runs[i]![0] >= runs[i - 1]![1], `task ${i} started after task ${i - 1} finished (4 free slots, cap 1)`);
  });

  it('accounts GPU-seconds per tenant, and refuses submissions past the GPU-seconds budget', async () => {
    const gina = as('gina', 'team-g');
    const r = await gina.post('/tasks', { type: 'sleep', payload: { ms: 500 }, requirements: { gpus: 1 } }, { prefer: 'wait=30' });
    assert.equal(r.body.status, 'succeeded', JSON.stringify(r.body));
    const row = await waitFor(() => tenantRow(gina, 'team-g'), (t) => t?.gpuSeconds > 0, { what: 'team-g\'s GPU-seconds accounted' });
    assert.ok(row.gpuSeconds >= 0.4 && row.gpuSeconds < 30, `about half a GPU-second (${row.gpuSeconds})`);
    const metric = /^anki_tenant_gpu_seconds_total\{tenant="team-g"\} (\S+)$/m.exec(await cluster.nodes[0]!.metrics());
    assert.ok(metric && Number(metric[1]) > 0, 'the metric shows it');
    assert.equal((await admin.request('PUT', '/tenants/team-g', { gpuSecondsBudget: 0.1 })).status, 200);
    const over = await gina.post('/tasks', { type: 'echo' });
    assert.equal(over.status, 429, JSON.stringify(over.body));
    assert.equal(over.body.limit, 'gpuSecondsBudget');
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
  });
});
