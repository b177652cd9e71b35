import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { mapLimit, waitFor } from '../helpers/wait';

const FAST = {
  HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000',
  MODEL_RECONCILE_INTERVAL_MS: '300', MODEL_DEMAND_WINDOW_MS: '5000', MODEL_BACKLOG_HORIZON_MS: '5000', MODEL_MIN_RESIDENCY_MS: '3000',
};
const PLUGIN = join(__dirname, '..', 'fixtures', 'ki', 'plugins', 'models.js');
const KIS = 4;

type ApiModel = { name: string; replicas: { ki: string; state: string }[] };

/** The sum of a metric's series for one model over the nodes of a role, from their /metrics. */
async function metricSum(cluster: TestCluster, role: string, name: string, model: string): Promise<number> {
  let total = 0;
  for (const node of cluster.nodes.filter((n) => n.role === role && n.alive)) {
    const text = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
    for (const m of text.matchAll(new RegExp(`^${name}\\{[^}]*model="${model}"[^}]*\\}\\s+(\\S+)$`, 'gm'))) total += Number(m[1]);
  }
  return total;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('models for interactive inference (real processes, RabbitMQ, PostgreSQL)', function () {
  this.timeout(240_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let admin: Api;
  let alice: Api;
  let viewer: Api;

  const models = async () => (await admin.get('/models')).body.items as ApiModel[];
  const ready = (items: ApiModel[], name: string) => items.find((m) => m.name === name)?.replicas.filter((r) => r.state === 'ready').length ?? 0;
  const resident = (items: ApiModel[], name: string) => items.find((m) => m.name === name)?.replicas.length ?? 0;

  before(async () => {
    iso = await createIsolation('models');
    cluster = new TestCluster(iso, FAST);
    await cluster.start('principal', { id: 'p1' });
    // A second principal, to take over as leader in the last test.
    await cluster.start('principal', { id: 'p2' });
    admin = new Api(cluster.url(), cluster.token('root', 'admin'));
    alice = admin.as(cluster.token('alice', 'submitter'));
    viewer = admin.as(cluster.token('vera', 'viewer'));
    await cluster.start('an', { id: 'an1' });
    for (let i = 1; i <= KIS; i++) await cluster.start('ki', { id: `ki${i}`, env: { KI_HANDLERS: PLUGIN, KI_SLOTS: '1', KI_MODEL_SLOTS: '1' } });
    await waitFor(() => admin.get('/nodes'), (r) => r.body.items.filter((n: any) => n.role === 'ki' && n.status === 'alive' && n.group).length === KIS, { what: 'every Ki in a group' });
  });

  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  it('lets a viewer read the models but not deploy one, and refuses a task naming a model nobody deployed', async () => {
    const denied = await viewer.post('/models', { name: 'llama', type: 'fake-llm' });
    assert.equal(denied.status, 403);
    assert.equal((await alice.post('/models', { name: 'llama', type: 'fake-llm' })).status, 403, 'a submitter may not deploy either');
    assert.equal((await viewer.get('/models')).status, 200);
    assert.deepEqual(await models(), [], 'nothing was deployed');
    const unknown = await alice.post('/tasks', { type: 'generate', model: 'nobody-deployed-this' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.field, 'model');
    const bad = await admin.post('/models', { name: 'bad', type: 'fake-llm', warm: { min: 2, max: 1 } });
    assert.deepEqual([bad.status, bad.body.field], [400, 'warm.min']);
  });

  it('keeps a model with warm.min 1 loaded on one Ki, loaded once, and runs every later task on that load', async () => {
    const deployed = await admin.post('/models', { name: 'warm', type: 'fake-llm', warm: { min: 1, max: 1 }, config: { loadMs: 200 } });
    assert.equal(deployed.status, 201);
    assert.equal(deployed.headers.get('location'), '/models/warm');
    const items = await waitFor(models, (m) => ready(m, 'warm') === 1, { what: 'the warm replica ready', timeoutMs: 30_000 });
    const ki = items.find((m) => m.name === 'warm')!.replicas[0]!.ki;
    const results = [];
    for (let i = 0; i < 5; i++) {
      const r = await alice.post('/tasks', { type: 'generate', model: 'warm', payload: { ms: 10 } }, { Prefer: 'wait=30' });
      assert.equal(r.status, 201);
      assert.equal(r.body.status, 'succeeded', JSON.stringify(r.body.error));
      assert.equal(r.body.model, 'warm');
      results.push(r.body.result as { loadId: string; loads: number; ki: string });
    }
    assert.deepEqual(new Set(results.map((r) => r.loadId)).size, 1, 'every task ran on the same loaded handle');
    assert.deepEqual(results.map((r) => [r.ki, r.loads]), results.map(() => [ki, 1]), 'on the warm Ki, which loaded the model once');
    assert.equal(await metricSum(cluster, 'ki', 'anki_model_cold_starts_total', 'warm'), 0, 'no task had to load it');
    const again = await admin.post('/models', { name: 'warm', type: 'fake-llm', warm: { min: 1, max: 1 }, config: { loadMs: 200 } });
    assert.equal(again.status, 200, 'a redeploy under the same name replaces the settings');
    console.log(`      warm model: ${results.length} tasks on one load (${results[0]!.loadId.slice(0, 8)}) on ${ki}`);
  });

  it('loads a model cold on a Ki without it when a task names it, counted in the metrics', async () => {
    assert.equal((await admin.post('/models', { name: 'cold', type: 'fake-llm', warm: { min: 0, max: 1 } })).status, 201);
    assert.equal(resident(await models(), 'cold'), 0, 'nothing keeps it warm');
    const r = await alice.post('/tasks', { type: 'generate', model: 'cold', payload: {} }, { Prefer: 'wait=30' });
    assert.equal(r.body.status, 'succeeded', JSON.stringify(r.body.error));
    assert.equal(r.body.result.loads, 1);
    const coldStarts = await waitFor(() => metricSum(cluster, 'ki', 'anki_model_cold_starts_total', 'cold'), (n) => n >= 1, { what: 'a cold start counted' });
    console.log(`      cold model: ${coldStarts} cold start(s), the task ran on ${r.body.result.ki}`);
  });

  it('unloads a deleted model everywhere', async () => {
    for (const name of ['warm', 'cold']) assert.equal((await admin.request('DELETE', `/models/${name}`)).status, 204);
    assert.equal((await admin.request('DELETE', '/models/warm')).status, 404);
    assert.equal((await viewer.request('DELETE', '/models/warm')).status, 403);
    assert.equal((await models()).length, 0);
    // The leader's replica gauges follow the Kis' heartbeats down to nothing resident.
    for (const name of ['warm', 'cold']) await waitFor(() => metricSum(cluster, 'principal', 'anki_model_replicas', name), (n) => n === 0, { what: `${name} unloaded everywhere`, timeoutMs: 30_000 });
  });

  it('gives two models under 3:1 demand replicas near 3:1, each served near its share', async () => {
    // Start from the wrong split: b on three Kis, a on one. Every Ki then holds a model, so a's tasks
    // cannot start cold elsewhere: only the leader's demand scaling can give a more replicas.
    assert.equal((await admin.post('/models', { name: 'b', type: 'fake-llm', warm: { min: KIS - 1, max: KIS } })).status, 201);
    await waitFor(models, (m) => ready(m, 'b') === KIS - 1, { what: 'b on three Kis', timeoutMs: 30_000 });
    assert.equal((await admin.post('/models', { name: 'a', type: 'fake-llm', warm: { min: 1, max: KIS } })).status, 201);
    await waitFor(models, (m) => ready(m, 'a') === 1, { what: 'a on the fourth Ki', timeoutMs: 30_000 });
    assert.equal((await admin.post('/models', { name: 'b', type: 'fake-llm', warm: { min: 1, max: KIS } })).status, 200);
    const startedAt = Date.now();
    const taskMs = 400;
    const ids: { id: string; model: string }[] = [];
    let running = true;
    // Offered load: 3 a and 1 b every 400 ms, about what 4 one-slot Kis serve at 400 ms per task.
    const submitter = (async () => {
      while (running) {
        const batch = [...Array.from({ length: 3 }, () => ({ type: 'generate', model: 'a', payload: { ms: taskMs } })), { type: 'generate', model: 'b', payload: { ms: taskMs } }];
        const r = await alice.post('/tasks/batch', { tasks: batch });
        if (r.status === 201) (r.body.ids as string[]).forEach((id, i) => ids.push({ id, model: batch[i]!.model }));
        await sleep(taskMs);
      }
    })();
    let final: ApiModel[];
    try {
      final = await waitFor(models, (m) => ready(m, 'a') === 3 && ready(m, 'b') === 1, { what: 'replicas at 3:1', timeoutMs: 90_000, intervalMs: 500 });
      console.log(`      3:1 demand: replicas went from a 1 : b 3 to a 3 : b 1 in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
      // Served rates over a window once the replicas settled.
      const windowStart = Date.now();
      await sleep(10_000);
      const windowEnd = Date.now();
      running = false;
      await submitter;
      const tasks = await mapLimit(ids, 8, async (t) => ({ ...t, task: (await alice.get(`/tasks/${t.id}`)).body }));
      const served = { a: 0, b: 0 } as Record<string, number>;
      for (const t of tasks) {
        const at = t.task.finishedAt ? Date.parse(t.task.finishedAt) : NaN;
        if (t.task.status === 'succeeded' && at >= windowStart && at < windowEnd) served[t.model] = (served[t.model] ?? 0) + 1;
      }
      const seconds = (windowEnd - windowStart) / 1000;
      const total = served['a']! + served['b']!;
      const share = (n: number) => (total > 0 ? n / total : 0);
      console.log(`      3:1 demand: replicas a ${ready(final, 'a')} : b ${ready(final, 'b')}; served a ${(served['a']! / seconds).toFixed(2)}/s, b ${(served['b']! / seconds).toFixed(2)}/s`
        + ` (shares ${share(served['a']!).toFixed(3)} : ${share(served['b']!).toFixed(3)} for demand 0.750 : 0.250; within 20 %: ${Math.abs(share(served['a']!) - 0.75) <= 0.15 && Math.abs(share(served['b']!) - 0.25) <= 0.05})`);
      const coldA = await metricSum(cluster, 'ki', 'anki_model_cold_starts_total', 'a');
      const coldB = await metricSum(cluster, 'ki', 'anki_model_cold_starts_total', 'b');
      console.log(`      cold starts during the run: a ${coldA}, b ${coldB}; tasks submitted ${ids.length}`);
      assert.ok(served['a']! > served['b']!, 'the model with three times the demand served more');
    } finally {
      running = false;
      await submitter;
    }
  });

  it('keeps a warm replica across a leader failover: the new leader neither reloads it nor loses it', async () => {
    assert.equal((await admin.post('/models', { name: 'steady', type: 'fake-llm', warm: { min: 1, max: 1 } })).status, 201);
    await waitFor(models, (m) => ready(m, 'steady') === 1, { what: 'the steady replica ready', timeoutMs: 60_000 });
    const before = await alice.post('/tasks', { type: 'generate', model: 'steady', payload: {} }, { Prefer: 'wait=30' });
    assert.equal(before.body.status, 'succeeded', JSON.stringify(before.body.error));
    const leaderId = (await admin.get('/cluster')).body.leader.id as string;
    const leader = cluster.nodes.find((n) => n.id === leaderId)!;
    const survivor = cluster.nodes.find((n) => n.role === 'principal' && n.id !== leaderId)!;
    await leader.kill('SIGKILL');
    const viaSurvivor = new Api(cluster.url(survivor), alice.token);
    // The survivor leads once it reports the replicas (only the leader does).
    await waitFor(() => metricSum(cluster, 'principal', 'anki_model_replicas', 'steady'), (n) => n === 1, { what: 'the new leader reporting the replica', timeoutMs: 30_000 });
    // A few of its rounds later the replica is where it was, loaded once.
    await sleep(2_000);
    const after = await viaSurvivor.post('/tasks', { type: 'generate', model: 'steady', payload: {} }, { Prefer: 'wait=30' });
    assert.equal(after.body.status, 'succeeded', JSON.stringify(after.body.error));
    assert.deepEqual([after.body.result.loadId, after.body.result.ki, after.body.result.loads], [before.body.result.loadId, before.body.result.ki, 1]);
    console.log(`      failover: ${leaderId} killed; ${survivor.id} kept steady on ${after.body.result.ki}, loaded once`);
  });
});
