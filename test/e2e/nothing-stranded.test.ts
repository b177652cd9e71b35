import { strict as assert } from 'node:assert';
import pg from 'pg';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { statusCounts } from '../helpers/task-db';
import { waitFor } from '../helpers/wait';

/** The columns of one task row that tell who holds it, read straight from the run's database. */
async function taskRow(databaseUrl: string, id: string): Promise<{ status: string; attempts: number; an: string | null; error: { code: string } | null }> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query('SELECT status, attempts, an, error FROM tasks WHERE id = $1', [id]);
    return r.rows[0];
  } finally {
    await c.end();
  }
}

const terminal = (c: Record<string, number>) => (c['succeeded'] ?? 0) + (c['failed'] ?? 0) + (c['cancelled'] ?? 0);

describe('nothing stranded when an An or a Ki process goes away (real processes)', function () {
  this.timeout(180_000);
  let iso: Isolation;
  let cluster: TestCluster;

  afterEach(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  it('finishes a task whose Ans are killed during its retry backoff: the backoff waits in the store, another An runs the retry', async () => {
    iso = await createIsolation('backoff');
    // A long backoff, and each dispatch recorded at once (as for any task that ran longer than
    // the record delay): the pending message is acked, only the row keeps the task.
    cluster = new TestCluster(iso, {
      HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '600', DEAD_AFTER_MS: '1500', TASK_LEASE_MS: '3000', SWEEP_INTERVAL_MS: '500',
      RETRY_BASE_MS: '5000', AN_DISPATCH_RECORD_DELAY_MS: '0',
    });
    await cluster.start('principal');
    const ans = [await cluster.start('an', { id: 'an1' }), await cluster.start('an', { id: 'an2' })];
    await cluster.start('ki', { id: 'ki1' });
    const ops = new Api(cluster.url(), cluster.token('ops', 'operator'));
    await waitFor(() => ops.get('/nodes'), (r) => r.body.items.filter((n: any) => n.role === 'ki' && n.status === 'alive').length === 1);
    const api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    const r = await api.post('/tasks', { type: 'fail', maxAttempts: 3, payload: { message: 'try again', retryable: true } });
    assert.equal(r.status, 201);
    const id: string = r.body.id;

    const backoff = await waitFor(() => taskRow(iso.databaseUrl, id), (t) => t.status === 'scheduled' && t.attempts === 1 && t.error !== null, { timeoutMs: 30_000, intervalMs: 50, what: 'the first attempt failed, the task in backoff' });
    assert.equal(backoff.an, null, 'no An holds a task in backoff');
    // Whichever An ran the attempt, none is left: the retry must come from the row alone.
    for (const an of ans) await an.kill('SIGKILL');
    await cluster.start('an', { id: 'an3' });

    const done = await waitFor(() => taskRow(iso.databaseUrl, id), (t) => t.status === 'failed' || t.status === 'succeeded', { timeoutMs: 60_000, intervalMs: 300, what: 'the task terminal, not stranded in its backoff' });
    assert.equal(done.status, 'failed');
    assert.equal(done.attempts, 3, 'every attempt ran, and no more');
    assert.equal(done.error?.code, 'TASK_FAILED');
    assert.equal(done.an, 'an3');
  });

  it('finishes every task of a Ki killed and restarted at once under the same NODE_ID', async () => {
    iso = await createIsolation('kirestart');
    // The Ki comes back long before it could be declared dead: only its new start tells the An.
    cluster = new TestCluster(iso, { KI_SLOTS: '8', HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '20000', DEAD_AFTER_MS: '40000', TASK_LEASE_MS: '4000', SWEEP_INTERVAL_MS: '500' });
    await cluster.start('principal');
    await cluster.start('an', { id: 'an1' });
    const ki = await cluster.start('ki', { id: 'ki1' });
    const ops = new Api(cluster.url(), cluster.token('ops', 'operator'));
    await waitFor(() => ops.get('/nodes'), (r) => r.body.items.filter((n: any) => n.role === 'ki' && n.status === 'alive').length === 1);
    const api = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    const r = await api.post('/tasks/batch', { tasks: Array.from({ length: 24 }, () => ({ type: 'sleep', payload: { ms: 1500 } })) });
    assert.equal(r.status, 201);

    await waitFor(() => statusCounts(iso.databaseUrl), (c) => (c['running'] ?? 0) >= 4, { timeoutMs: 30_000, intervalMs: 50, what: 'tasks running on ki1' });
    await ki.kill('SIGKILL');
    const again = await cluster.start('ki', { id: 'ki1' });

    const counts = await waitFor(() => statusCounts(iso.databaseUrl), (c) => terminal(c) === 24, { timeoutMs: 60_000, intervalMs: 300, what: 'all 24 tasks terminal, none stuck dispatched/running' });
    assert.equal(counts['succeeded'], 24, `all succeeded: ${JSON.stringify(counts)}`);
    assert.ok(again.alive, 'the restarted Ki kept running');
  });
});
