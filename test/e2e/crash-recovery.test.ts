import { strict as assert } from 'node:assert';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';
import { statusCounts } from '../helpers/task-db';


function finishedCount(metricsText: string, status: string): number {
  const m = new RegExp(`anki_tasks_finished_total\\{status="${status}"\\} (\\d+)`).exec(metricsText);
  return m ? Number(m[1]) : 0;
}

describe('recovery from crashed nodes (kill -9, real processes)', function () {
  this.timeout(180_000);
  let iso: Isolation;
  let cluster: TestCluster;

  beforeEach(async () => {
    iso = await createIsolation('crash');
    cluster = new TestCluster(iso, { KI_SLOTS: '8', HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', TASK_LEASE_MS: '4000', SWEEP_INTERVAL_MS: '500' });
  });

  afterEach(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  async function submit(api: Api, n: number, ms: number): Promise<string[]> {
    const r = await api.post('/tasks/batch', { tasks: Array.from({ length: n }, (_, i) => ({ type: 'sleep', payload: { ms: ms + (i % 7) } })) });
    assert.equal(r.status, 201);
    return r.body.ids;
  }

  it('finishes every task exactly once when a Ki is killed while running them', async () => {
    await cluster.start('principal');
    const an = await cluster.start('an', { id: 'an1' });
    const ki1 = await cluster.start('ki', { id: 'ki1' });
    await cluster.start('ki', { id: 'ki2' });
    const api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    await waitFor(() => api.as(cluster.token('ops', 'operator')).get('/nodes'), (r) => r.body.items.filter((n: any) => n.role === 'ki' && n.status === 'alive').length === 2);
    await submit(api, 200, 150);
    await waitFor(() => ki1.jsonLogs(), (l) => l.some((x) => x['msg'] === 'node started'));
    await waitFor(() => statusCounts(iso.databaseUrl), (c) => (c['succeeded'] ?? 0) >= 20, { what: 'some tasks done' });
    await ki1.kill('SIGKILL');
    const counts = await waitFor(() => statusCounts(iso.databaseUrl), (c) => (c['succeeded'] ?? 0) + (c['failed'] ?? 0) === 200, { timeoutMs: 90_000, intervalMs: 300, what: '200 tasks terminal' });
    assert.equal(counts['succeeded'], 200, `all succeeded: ${JSON.stringify(counts)}`);
    assert.equal(finishedCount(await an.metrics(), 'succeeded'), 200, 'each task completed once');
    assert.match(an.logs.join('\n'), /ki lost/);
  });

  it('finishes every task exactly once when the An is killed and another takes over', async () => {
    await cluster.start('principal');
    const an1 = await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    await cluster.start('ki', { id: 'ki2' });
    const api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    await waitFor(() => api.as(cluster.token('ops', 'operator')).get('/nodes'), (r) => r.body.items.filter((n: any) => n.role === 'ki' && n.status === 'alive').length === 2);
    await submit(api, 200, 150);
    await waitFor(() => statusCounts(iso.databaseUrl), (c) => (c['succeeded'] ?? 0) >= 20, { what: 'some tasks done' });
    await an1.kill('SIGKILL');
    const an2 = await cluster.start('an', { id: 'an2' });
    const counts = await waitFor(() => statusCounts(iso.databaseUrl), (c) => (c['succeeded'] ?? 0) + (c['failed'] ?? 0) === 200, { timeoutMs: 90_000, intervalMs: 300, what: '200 tasks terminal' });
    assert.equal(counts['succeeded'], 200, `all succeeded: ${JSON.stringify(counts)}`);
    const byAn1 = 200 - finishedCount(await an2.metrics(), 'succeeded');
    assert.ok(byAn1 >= 20 && byAn1 < 200, `an1 finished ${byAn1} before it died, an2 the rest`);
  });
});
