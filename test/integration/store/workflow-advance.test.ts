import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { loadConfig } from '../../../src/config';
import { createMetrics, silentLogger } from '../../../src/observability';
import { TaskAdmission } from '../../../src/principal/admission';
import { DbLeaseLeadership } from '../../../src/principal/db-lease-leadership';
import { WorkflowAdvancer } from '../../../src/principal/workflow-advancer';
import { buildWorkflowRecords } from '../../../src/principal/workflow-records';
import type { SubmittedNode } from '../../../src/http';
import { migrate, PgDatabase, TaskRepository, WorkflowRepository, type TaskRecord } from '../../../src/store';
import { createIsolation, type Isolation } from '../../helpers/isolation';

describe('advancing workflows on PostgreSQL', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let db: PgDatabase;
  let workflows: WorkflowRepository;
  let tasks: TaskRepository;
  let leadership: DbLeaseLeadership;
  const config = loadConfig({ env: { NODE_ENV: 'test', NODE_ID: 'p1' } });
  const metrics = createMetrics(new Registry(), 'principal');
  // Only `build` of a real admission is used: the advancers publish into `published`.
  const admission = new TaskAdmission({ config, repo: null as never, bus: null as never, names: null as never, metrics, log: silentLogger() });
  let published: string[];
  let cancelled: string[];

  before(async () => {
    iso = await createIsolation('wf-adv');
    db = new PgDatabase({ url: iso.databaseUrl, poolSize: 8, statementTimeoutMs: 10_000, connectTimeoutMs: 2000, maxTxAttempts: 5, applicationName: 'test' });
    await migrate(db, 'test');
    workflows = new WorkflowRepository(db);
    tasks = new TaskRepository(db);
    leadership = new DbLeaseLeadership({ db, nodeId: 'p1', leaseMs: 60_000, tickMs: 50, metrics, log: silentLogger(), wantsLead: () => true });
    await leadership.tick();
    assert.ok(leadership.isLeader());
  });
  after(async () => {
    await leadership?.stop();
    await db?.close();
    await iso?.destroy();
  });
  beforeEach(() => { published = []; cancelled = []; });

  const advancer = () => new WorkflowAdvancer({
    workflows, leadership, metrics, log: silentLogger(), maxFanOut: 100,
    cancelTasks: async (ids: readonly string[]) => { cancelled.push(...ids); },
    admission: { build: (b, o) => admission.build(b, o), publish: async (t: TaskRecord) => { published.push(t.id); return true; } },
  });
  const node = (key: string, type: string, dependsOn: string[] = [], mapOver: string | null = null): SubmittedNode => ({ key, dependsOn, mapOver, task: { type, payload: { key } } });

  async function submit(nodes: SubmittedNode[]): Promise<string> {
    const id = randomUUID();
    const { workflow, nodes: rows, tasks: first } = buildWorkflowRecords(id, { name: 'test', nodes }, 'alice', (b, o) => admission.build(b, o));
    assert.deepEqual(await workflows.create(workflow, rows, first), { existing: null });
    return id;
  }
  /** Finishes tasks straight in the store, as an An would. */
  async function finish(ids: string[], status: 'succeeded' | 'failed', result: (id: string) => unknown = () => null): Promise<void> {
    for (const id of ids) {
      await db.query('UPDATE tasks SET status = $2::text, result = $3::jsonb, error = $4::jsonb, finished_at = now() WHERE id = $1::uuid', [
        id, status, JSON.stringify(result(id)), status === 'failed' ? JSON.stringify({ code: 'EXECUTOR_ERROR', message: 'boom', retryable: false }) : null,
      ]);
    }
  }
  const nodeOf = async (wf: string, key: string) => (await workflows.nodes(wf)).find((n) => n.key === key)!;

  it('creates one task per node and per map element when two advancers race', async () => {
    const wf = await submit([node('list', 'list'), node('square', 'square', ['list'], 'list'), node('sum', 'sum', ['square'])]);
    const list = await nodeOf(wf, 'list');
    assert.equal(list.status, 'running');
    assert.equal(list.taskIds.length, 1, 'a node without dependencies gets its task with the workflow');
    await finish(list.taskIds, 'succeeded', () => Array.from({ length: 20 }, (_, i) => i));

    const [a, b] = [advancer(), advancer()];
    await Promise.all([a.advance(wf), b.advance(wf), a.advance(wf), b.advance(wf)]);
    const created = (await workflows.tasks(wf)).filter((t) => t.node === 'square');
    assert.equal(created.length, 20, 'one task per element, however many advancers ran');
    assert.deepEqual(created.map((t) => t.index).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(published.length, 20, 'only the advance that wrote publishes');
    const square = await nodeOf(wf, 'square');
    assert.equal(square.status, 'running');
    const stored = await tasks.getMany(square.taskIds);
    const inputsByIndex = new Map(stored.map((t) => [t.workflowIndex, t.inputs]));
    assert.deepEqual(inputsByIndex.get(7), { list: 7 }, 'each element is its task\'s input under the key it maps over');

    await finish(square.taskIds, 'succeeded', (id) => (stored.find((t) => t.id === id)!.workflowIndex ?? 0) ** 2);
    await Promise.all([a.advance(wf), b.advance(wf), a.advance(wf)]);
    const sums = (await workflows.tasks(wf)).filter((t) => t.node === 'sum');
    assert.equal(sums.length, 1);
    const sum = (await tasks.get(sums[0]!.id))!;
    assert.deepEqual(sum.inputs, { square: Array.from({ length: 20 }, (_, i) => i * i) }, 'the fan-in gets the results in element order');

    await finish([sum.id], 'succeeded', () => 2470);
    assert.equal(await a.advance(wf), true);
    assert.equal((await workflows.get(wf))?.status, 'succeeded');
    assert.equal(await b.advance(wf), false, 'a finished workflow is not advanced again');
  });

  it('skips everything downstream of a failed node with the reason, and ends the workflow failed once the rest is done', async () => {
    const wf = await submit([node('a', 'echo'), node('b', 'echo', ['a']), node('c', 'echo', ['b']), node('side', 'echo')]);
    await finish((await nodeOf(wf, 'a')).taskIds, 'failed');
    await advancer().advance(wf);
    const nodes = new Map((await workflows.nodes(wf)).map((n) => [n.key, n]));
    assert.equal(nodes.get('a')?.status, 'failed');
    assert.match(nodes.get('a')?.reason ?? '', /failed: EXECUTOR_ERROR: boom/);
    for (const k of ['b', 'c']) {
      assert.equal(nodes.get(k)?.status, 'skipped');
      assert.equal(nodes.get(k)?.reason, 'dependency "a" failed');
      assert.deepEqual(nodes.get(k)?.taskIds, [], 'a skipped node never gets a task');
    }
    assert.equal((await workflows.get(wf))?.status, 'running', 'the independent branch still runs');
    await finish(nodes.get('side')!.taskIds, 'succeeded');
    await advancer().advance(wf);
    assert.equal((await workflows.get(wf))?.status, 'failed');
  });

  it('cancels the unfinished elements of a mapped node once one of them failed', async () => {
    const wf = await submit([node('list', 'list'), node('square', 'square', ['list'], 'list')]);
    await finish((await nodeOf(wf, 'list')).taskIds, 'succeeded', () => [1, 2, 3]);
    await advancer().advance(wf);
    const [first, ...rest] = (await nodeOf(wf, 'square')).taskIds;
    await finish([first!], 'failed');
    await advancer().advance(wf);
    assert.equal((await nodeOf(wf, 'square')).status, 'failed');
    assert.deepEqual(cancelled.sort(), [...rest].sort(), 'the elements still queued are cancelled');
    assert.equal((await workflows.get(wf))?.status, 'failed');
  });

  it('the reconcile round finishes a workflow whose task events were never heard (a new leader after a crash)', async () => {
    const wf = await submit([node('a', 'echo'), node('b', 'echo', ['a'])]);
    await finish((await nodeOf(wf, 'a')).taskIds, 'succeeded', () => 'A');
    const successor = advancer();
    await successor.reconcile();
    const b = await nodeOf(wf, 'b');
    assert.equal(b.status, 'running');
    assert.deepEqual((await tasks.get(b.taskIds[0]!))?.inputs, { a: 'A' });
    await finish(b.taskIds, 'succeeded');
    await successor.reconcile();
    assert.equal((await workflows.get(wf))?.status, 'succeeded');
  });

  it('writes nothing under a term that is no longer the lease\'s', async () => {
    const wf = await submit([node('a', 'echo'), node('b', 'echo', ['a'])]);
    await finish((await nodeOf(wf, 'a')).taskIds, 'succeeded');
    const stale = { holder: 'p1', term: leadership.term - 1 };
    const wrote = await workflows.applyAdvance(wf, [{ key: 'a', from: 'running', to: 'succeeded', reason: null }], undefined, stale);
    assert.equal(wrote, false);
    assert.equal((await nodeOf(wf, 'a')).status, 'running');
  });
});
