import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');
const PLUGIN = join(__dirname, '..', 'fixtures', 'ki', 'plugins', 'workflow.js');
const ended = (s: string) => ['succeeded', 'failed', 'cancelled'].includes(s);

describe('workflows on real processes (principal, An, two Kis, RabbitMQ, PostgreSQL)', function () {
  this.timeout(180_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let alice: Api;
  let marks: string;
  let principal: NodeProcess;

  before(async () => {
    marks = mkdtempSync(join(tmpdir(), 'wf-marks-'));
    iso = await createIsolation('workflows');
    cluster = new TestCluster(iso, { KI_SLOTS: '4', KI_HANDLERS: PLUGIN, WF_MARK_DIR: marks, WORKFLOW_RECONCILE_INTERVAL_MS: '1000' });
    principal = await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    await cluster.start('ki', { id: 'ki2' });
    alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    const admin = alice.as(cluster.token('root', 'admin'));
    await waitFor(() => admin.get('/nodes'), (r) => r.body.items.filter((n: any) => n.role === 'ki' && n.status === 'alive' && n.group).length === 2, { what: 'two Kis in a group' });
  });
  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
    rmSync(marks, { recursive: true, force: true });
  });

  const untilEnded = (id: string) => waitFor(() => alice.get(`/workflows/${id}`), (r) => r.status === 200 && ended(r.body.status), { timeoutMs: 60_000, what: `workflow ${id} ended` }).then((r) => r.body);

  it('maps over a list of 20 and merges the squares in order, ending succeeded', async () => {
    const r = await alice.post('/workflows', { name: 'squares', tasks: [
      { key: 'list', type: 'wf.list', payload: { n: 20 } },
      { key: 'square', type: 'wf.square', payload: { over: 'list' }, dependsOn: ['list'], map: { over: 'list' } },
      { key: 'merge', type: 'wf.sum', payload: { from: 'square' }, dependsOn: ['square'] },
    ] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.headers.get('location'), `/workflows/${r.body.id}`);
    const wf = await untilEnded(r.body.id);
    assert.equal(wf.status, 'succeeded', JSON.stringify(wf.nodes));
    const nodes = new Map(wf.nodes.map((n: any) => [n.key, n]));
    const square: any = nodes.get('square');
    assert.equal(square.taskIds.length, 20, 'one task per element');
    assert.ok(square.tasks.every((t: any) => t.status === 'succeeded' && t.attempts === 1 && t.finishedAt));
    const merge: any = nodes.get('merge');
    const task = (await alice.get(`/tasks/${merge.taskIds[0]}`)).body;
    assert.equal(task.result, 2870, 'sum of the squares of 1..20');
    assert.equal(task.workflowId, wf.id, 'a workflow task names its workflow');
    const list = (await alice.get('/workflows?status=succeeded')).body;
    assert.ok(list.items.some((w: any) => w.id === wf.id));
    assert.match(await principal.metrics(), /^anki_workflows_finished_total\{status="succeeded"\} [1-9]/m, 'the leader counts the finished workflow');
  });

  it('skips the dependents of a node that failed and names why', async () => {
    const r = await alice.post('/workflows', { tasks: [
      { key: 'list', type: 'wf.list', payload: { n: 3 } },
      { key: 'square', type: 'wf.square', payload: { over: 'list', failOn: 2 }, maxAttempts: 1, dependsOn: ['list'], map: { over: 'list' } },
      { key: 'merge', type: 'wf.sum', payload: { from: 'square' }, dependsOn: ['square'] },
    ] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const wf = await untilEnded(r.body.id);
    assert.equal(wf.status, 'failed');
    const nodes = new Map(wf.nodes.map((n: any) => [n.key, n]));
    const square: any = nodes.get('square');
    assert.equal(square.status, 'failed');
    assert.match(square.reason, /element 1 \(task .+\) failed: .*refusing to square 2/);
    const merge: any = nodes.get('merge');
    assert.equal(merge.status, 'skipped');
    assert.equal(merge.reason, 'dependency "square" failed');
    assert.deepEqual(merge.taskIds, []);
  });

  it('cancelling a running workflow stops its running task on its Ki', async () => {
    const r = await alice.post('/workflows', { tasks: [
      { key: 'wait', type: 'wf.wait', payload: {} },
      { key: 'after', type: 'wf.sum', payload: { from: 'wait' }, dependsOn: ['wait'] },
    ] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const taskId = r.body.nodes[0].taskIds[0];
    await waitFor(() => alice.get(`/tasks/${taskId}`), (t) => t.body.status === 'running', { timeoutMs: 30_000, what: 'the first task running' });
    const c = await alice.post(`/workflows/${r.body.id}/cancel`);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.equal(c.body.status, 'cancelled');
    assert.deepEqual(c.body.nodes.map((n: any) => n.status), ['cancelled', 'cancelled']);
    const task = (await waitFor(() => alice.get(`/tasks/${taskId}`), (t) => ended(t.body.status), { what: 'the task ended' })).body;
    assert.equal(task.status, 'cancelled');
    await waitFor(async () => existsSync(join(marks, `${taskId}.aborted`)), (x) => x, { timeoutMs: 15_000, what: 'the Ki aborted the running task' });
  });

  it('runs a workflow file from the command line, printing a progress line until it ends', async () => {
    const file = join(marks, 'squares.json');
    writeFileSync(file, JSON.stringify({ name: 'cli', tasks: [
      { key: 'list', type: 'wf.list', payload: { n: 3 } },
      { key: 'square', type: 'wf.square', payload: { over: 'list' }, dependsOn: ['list'], map: { over: 'list' } },
      { key: 'merge', type: 'wf.sum', payload: { from: 'square' }, dependsOn: ['square'] },
    ] }));
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ANKI_URL: cluster.url(), ANKI_TOKEN: cluster.token('alice', 'submitter') };
    const { stdout } = await promisify(execFile)(process.execPath, [MAIN, 'workflow', 'submit', file, '--wait', '--poll-ms', '100'], { env, timeout: 60_000 });
    assert.match(stdout, /^workflow [0-9a-f-]{36} running: /m, 'a progress line while it runs');
    assert.match(stdout, /^workflow [0-9a-f-]{36} succeeded: 3\/3 nodes done \(succeeded 3\)$/m);
    assert.match(stdout, /^ {2}merge {2}succeeded/m);
    const id = /^id +(\S+)$/m.exec(stdout)?.[1];
    const list = await promisify(execFile)(process.execPath, [MAIN, 'workflow', 'list', '--status', 'succeeded'], { env, timeout: 30_000 });
    assert.ok(id && list.stdout.includes(id), list.stdout);
  });

  it('refuses a bad definition with a 400 naming the problem, hides other owners\' workflows and refuses a viewer', async () => {
    const cycle = await alice.post('/workflows', { tasks: [{ key: 'a', type: 'echo', dependsOn: ['b'] }, { key: 'b', type: 'echo', dependsOn: ['a'] }] });
    assert.equal(cycle.status, 400);
    assert.match(cycle.body.detail, /dependency cycle/);
    const mapNotDep = await alice.post('/workflows', { tasks: [{ key: 'a', type: 'echo' }, { key: 'b', type: 'echo', map: { over: 'a' } }] });
    assert.equal(mapNotDep.status, 400);
    assert.equal(mapNotDep.body.field, 'tasks.1.map.over');
    const overCeiling = await alice.post('/workflows', { tasks: [{ key: 'a', type: 'echo', priority: 9 }] });
    assert.equal(overCeiling.status, 400);
    assert.equal(overCeiling.body.field, 'tasks.0.priority');

    const mine = await alice.post('/workflows', { tasks: [{ key: 'a', type: 'echo', payload: 1 }] }, { 'idempotency-key': 'wf-once' });
    assert.equal(mine.status, 201);
    const again = await alice.post('/workflows', { tasks: [{ key: 'a', type: 'echo', payload: 1 }] }, { 'idempotency-key': 'wf-once' });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, mine.body.id, 'the same Idempotency-Key gives back the same workflow');
    const bob = alice.as(cluster.token('bob', 'submitter'));
    assert.equal((await bob.get(`/workflows/${mine.body.id}`)).status, 404);
    assert.equal((await bob.post(`/workflows/${mine.body.id}/cancel`)).status, 404);
    const viewer = alice.as(cluster.token('vera', 'viewer'));
    assert.equal((await viewer.post('/workflows', { tasks: [{ key: 'a', type: 'echo' }] })).status, 403);
  });
});
