import { strict as assert } from 'node:assert';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

const TERMINAL = ['succeeded', 'failed', 'cancelled'];
/** Short bench: long enough to see it, short enough to see it end. */
const BENCH_MS = 5000;

interface Task { id: string; status: string; ki: string | null; attempts: number; error: { code: string } | null }
interface NodeView {
  id: string; role: string; status: string; group: string; stableId?: string; state?: string; drained?: boolean;
  stateReason?: string; stateChangedBy?: string; benched?: boolean; benchReason?: string; benchedUntil?: string;
}

describe('node operations: drain, cordon and the circuit breaker (real processes)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let an: NodeProcess;
  /** The second Ki: its stable id `box-2` stays when its pod is replaced by one with another node id. */
  let ki2: NodeProcess;
  let operator: Api;

  before(async () => {
    iso = await createIsolation('nodeops');
    cluster = new TestCluster(iso, {
      KI_SLOTS: '2', HEARTBEAT_MS: '200', AN_QUARANTINE_REFRESH_MS: '300',
      AN_BREAKER_FAILURES: '2', AN_BREAKER_BACKOFF_MS: String(BENCH_MS), AN_BREAKER_MAX_BACKOFF_MS: String(BENCH_MS),
    });
    const principal = await cluster.start('principal');
    operator = new Api(cluster.url(principal), cluster.token('olga', 'operator'));
    an = await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    ki2 = await cluster.start('ki', { id: 'ki2', env: { NODE_STABLE_ID: 'box-2' } });
    await waitFor(() => nodes(), (ns) => ns.filter((n) => n.role === 'ki' && n.status === 'alive' && n.group).length === 2, { what: 'two Kis alive in a group' });
  });

  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  async function nodes(): Promise<NodeView[]> {
    const r = await operator.get('/nodes');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.items;
  }
  const ki = async (id: string) => (await nodes()).find((n) => n.id === id)!;

  async function submit(tasks: object[]): Promise<string[]> {
    const r = await operator.post('/tasks/batch', { tasks });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.ids;
  }
  const sleeps = (n: number, ms: number, over: object = {}) => Array.from({ length: n }, () => ({ type: 'sleep', payload: { ms }, ...over }));
  const tasks = (ids: string[]): Promise<Task[]> => Promise.all(ids.map(async (id) => (await operator.get(`/tasks/${id}`)).body as Task));
  const finished = (ids: string[]) => waitFor(() => tasks(ids), (ts) => ts.every((t) => TERMINAL.includes(t.status)), { timeoutMs: 30_000, intervalMs: 200, what: 'tasks terminal' });

  /** Waits until the An reads `n` Kis held out for `reason`: from then on its placement skips them. */
  async function anHoldsOut(reason: string, n: number): Promise<void> {
    const series = new RegExp(`^anki_kis_held_out\\{reason="${reason}"\\} (\\d+)`, 'm');
    await waitFor(() => an.metrics(), (text) => Number(series.exec(text)?.[1]) === n, { what: `an1 holds ${n} Ki(s) out as ${reason}` });
  }

  async function operate(path: string, api: Api = operator, body?: object) {
    return api.post(path, body);
  }

  it('refuses node operations to a viewer and a submitter, names an unknown node 404 and a principal 409', async () => {
    for (const role of ['viewer', 'submitter'] as const) {
      const r = await operate('/nodes/ki1/cordon', operator.as(cluster.token('vic', role)));
      assert.equal(r.status, 403, `${role}: ${JSON.stringify(r.body)}`);
    }
    assert.equal((await operate('/nodes/no-such-ki/drain')).status, 404);
    assert.equal((await operate('/nodes/principal1/drain')).status, 409, 'a principal is not drained this way');
    assert.equal((await ki('ki1')).state, 'active', 'nothing was changed');
  });

  it('drains an An: it takes no more pending tasks and shows drained, and takes them again after uncordon', async () => {
    const r = await operate('/nodes/an1/drain', operator, { reason: 'move to another zone' });
    assert.deepEqual([r.status, r.body.state], [200, 'draining']);
    await anHoldsOut('draining', 1);
    await waitFor(() => nodes(), (ns) => ns.find((n) => n.id === 'an1')?.drained === true, { what: 'an1 drained' });
    const [id] = await submit([{ type: 'echo', payload: { x: 1 } }]);
    // Watched for a while: the only An must leave it in the queue.
    const seen = new Set<string>();
    const until = Date.now() + 1500;
    while (Date.now() < until) seen.add((await tasks([id!]))[0]!.status);
    assert.deepEqual([...seen], ['queued'], 'the drained An took nothing from the pending queue');
    assert.equal((await operate('/nodes/an1/uncordon')).status, 200);
    const [done] = await finished([id!]);
    assert.equal(done?.status, 'succeeded', 'the An takes pending tasks again');
    await anHoldsOut('draining', 0);
  });

  it('drains a Ki: its running task finishes there, new tasks go elsewhere, /nodes shows it drained, and uncordon brings it back', async () => {
    const first = await submit(sleeps(2, 2500));
    const running = await waitFor(() => tasks(first), (ts) => ts.filter((t) => t.status === 'running').length === 2, { what: 'two sleeps running' });
    const onKi1 = running.filter((t) => t.ki === 'ki1').map((t) => t.id);
    assert.equal(onKi1.length, 1, `least-loaded put one sleep on each Ki: ${JSON.stringify(running.map((t) => t.ki))}`);

    const r = await operate('/nodes/ki1/drain', operator, { reason: 'kernel update' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.stableId, r.body.state, r.body.drained, r.body.changedBy], ['ki1', 'draining', false, 'olga']);
    await anHoldsOut('draining', 1);

    // ki1 has a free slot, ki2 none: without the drain one of these would start on ki1.
    const later = await submit(sleeps(3, 200));
    const done = await finished([...first, ...later]);
    assert.deepEqual(done.filter((t) => t.status !== 'succeeded').map((t) => `${t.id} ${t.status} ${JSON.stringify(t.error)}`), [], 'nothing failed or was lost');
    const ran = (id: string) => done.find((t) => t.id === id)!;
    assert.deepEqual([ran(onKi1[0]!).ki, ran(onKi1[0]!).attempts], ['ki1', 1], 'the task running on ki1 finished there, in its first attempt');
    assert.deepEqual(later.map((id) => ran(id).ki), ['ki2', 'ki2', 'ki2'], 'no new task landed on the draining Ki');

    const drained = await waitFor(() => ki('ki1'), (n) => n.drained === true, { what: 'ki1 drained' });
    assert.deepEqual([drained.state, drained.stateReason, drained.stateChangedBy], ['draining', 'kernel update', 'olga']);

    assert.equal((await operate('/nodes/ki1/uncordon')).status, 200);
    await anHoldsOut('draining', 0);
    assert.equal((await ki('ki1')).state, 'active');
    // Four slots for four sleeps: two of them must start on ki1.
    const back = await finished(await submit(sleeps(4, 500)));
    assert.equal(back.filter((t) => t.ki === 'ki1' && t.status === 'succeeded').length, 2, 'ki1 takes work again');
  });

  it('cordons a Ki by its stable id, keeps the cordon when a pod with a new node id replaces it, and uncordons it', async () => {
    const r = await operate('/nodes/box-2/cordon', operator, { reason: 'flaky fan' });
    assert.deepEqual([r.status, r.body.stableId, r.body.state], [200, 'box-2', 'cordoned']);
    await anHoldsOut('cordoned', 1);
    const shown = await ki('ki2');
    assert.deepEqual([shown.stableId, shown.state, shown.stateReason, shown.drained], ['box-2', 'cordoned', 'flaky fan', false]);

    // The pod is rescheduled: another node id, the same stable id.
    assert.equal(await ki2.kill('SIGTERM'), 0);
    ki2 = await cluster.start('ki', { id: 'ki2b', env: { NODE_STABLE_ID: 'box-2' } });
    const moved = await waitFor(() => nodes(), (ns) => ns.some((n) => n.id === 'ki2b' && n.status === 'alive' && n.group), { what: 'ki2b alive in a group' });
    assert.deepEqual([moved.find((n) => n.id === 'ki2b')?.stableId, moved.find((n) => n.id === 'ki2b')?.state], ['box-2', 'cordoned']);

    const done = await finished(await submit(sleeps(4, 200)));
    assert.deepEqual(done.map((t) => `${t.status} ${t.ki}`), Array(4).fill('succeeded ki1'), 'everything ran on ki1');
    assert.equal((await operate('/nodes/ki2b/uncordon')).status, 200, 'the node id names the Ki as well');
    await anHoldsOut('cordoned', 0);
  });

  it('benches a Ki whose attempts keep timing out, shows why in /nodes, and places on it again after the backoff', async () => {
    // Only ki1 may run the timing-out tasks.
    await operate('/nodes/box-2/cordon', operator, { reason: 'keep the timeouts on ki1' });
    await anHoldsOut('cordoned', 1);
    const timedOut = await finished(await submit(sleeps(2, 5000, { timeoutMs: 300 })));
    assert.deepEqual(timedOut.map((t) => `${t.ki} ${t.error?.code}`), ['ki1 TIMEOUT', 'ki1 TIMEOUT']);
    const benched = await waitFor(() => ki('ki1'), (n) => n.benched === true, { what: 'ki1 benched' });
    assert.match(benched.benchReason ?? '', /2 attempts in a row ended in TIMEOUT, TIMEOUT/);
    assert.ok(benched.benchedUntil, 'the bench shows when it ends');
    await operate('/nodes/box-2/uncordon');
    await anHoldsOut('cordoned', 0);
    await anHoldsOut('benched', 1);

    // While ki1 sits out, ki2 runs everything (a task that finds no place waits for one).
    const whileBenched = await finished(await submit(sleeps(2, 100)));
    assert.deepEqual(whileBenched.map((t) => t.ki), [ki2.id, ki2.id]);

    await waitFor(() => ki('ki1'), (n) => n.benched === false, { timeoutMs: BENCH_MS + 10_000, what: 'the bench of ki1 over' });
    await anHoldsOut('benched', 0);
    const after = await finished(await submit(sleeps(4, 500)));
    assert.equal(after.filter((t) => t.ki === 'ki1' && t.status === 'succeeded').length, 2, 'ki1 takes work again by itself');
  });

  it('drains a Ki on SIGTERM: it reports draining at once, its running task finishes there, and new tasks go elsewhere', async () => {
    const ki1 = cluster.nodes.find((n) => n.id === 'ki1')!;
    const first = await submit(sleeps(2, 2000));
    const running = await waitFor(() => tasks(first), (ts) => ts.filter((t) => t.status === 'running').length === 2, { what: 'two sleeps running' });
    const onKi1 = running.find((t) => t.ki === 'ki1')!.id;

    const exited = ki1.kill('SIGTERM');
    await waitFor(() => ki('ki1'), (n) => n.state === 'draining', { intervalMs: 50, what: 'ki1 reports draining' });
    const later = await submit(sleeps(2, 100));
    assert.equal(await exited, 0, 'ki1 exits 0 once its task ended');
    const done = await finished([...first, ...later]);
    assert.deepEqual(done.filter((t) => t.status !== 'succeeded').map((t) => `${t.id} ${t.status} ${JSON.stringify(t.error)}`), [], 'nothing failed or was lost');
    const ran = done.find((t) => t.id === onKi1)!;
    assert.deepEqual([ran.ki, ran.attempts], ['ki1', 1], 'the task running on ki1 finished there, in its first attempt');
    assert.deepEqual(later.map((id) => done.find((t) => t.id === id)!.ki), [ki2.id, ki2.id], 'no new task landed on the stopping Ki');
  });
});
