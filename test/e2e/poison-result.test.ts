import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

const PLUGIN = join(__dirname, '..', 'fixtures', 'ki', 'plugins', 'poison.js');

/**
 * A Ki returns results PostgreSQL cannot store (U+0000, a lone surrogate, nesting beyond the
 * limit) for a few tasks among a hundred others. Each poison task fails with RESULT_UNSTORABLE;
 * every other task succeeds, and the An keeps working.
 */
describe('poison results (real processes, RabbitMQ, PostgreSQL)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;

  before(async () => {
    iso = await createIsolation('poison');
    cluster = new TestCluster(iso, { SHUTDOWN_GRACE_MS: '3000' });
  });

  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  it('fails each poison task with RESULT_UNSTORABLE while the 100 tasks around it succeed', async () => {
    const principal = await cluster.start('principal', { id: 'p1' });
    const an = await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1', env: { KI_HANDLERS: PLUGIN, KI_SLOTS: '8' } });
    const api = new Api(cluster.url(principal), cluster.token('alice', 'submitter'));
    const ops = api.as(cluster.token('ops', 'operator'));
    await waitFor(() => ops.get('/nodes'), (r) => r.body.items.some((n: { id: string; status: string; group: string }) => n.id === 'ki1' && n.status === 'alive' && n.group === 'an1'), { what: 'ki1 in the group of an1' });

    const poisons = new Map([[25, 'nul'], [50, 'surrogate'], [75, 'deep']]);
    const specs = Array.from({ length: 103 }, (_, i) => ({ type: 'poison', payload: poisons.has(i) ? { kind: poisons.get(i) } : { i } }));
    const r = await api.post('/tasks/batch', { tasks: specs });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const ids = r.body.ids as string[];

    const finished = await waitFor(
      () => Promise.all(ids.map(async (id) => (await api.get(`/tasks/${id}`)).body)),
      (ts) => ts.every((t) => t.status === 'succeeded' || t.status === 'failed'),
      { timeoutMs: 60_000, what: 'all 103 tasks finished' },
    );
    for (const [i, t] of finished.entries()) {
      if (poisons.has(i)) {
        assert.equal(t.status, 'failed', `poison task ${i} (${poisons.get(i)})`);
        assert.equal(t.error?.code, 'RESULT_UNSTORABLE', `poison task ${i} (${poisons.get(i)}): ${JSON.stringify(t.error)}`);
        assert.equal(t.attempts, 1, 'never retried');
      } else {
        assert.equal(t.status, 'succeeded', `task ${i}: ${JSON.stringify(t.error)}`);
        assert.deepEqual(t.result, { i });
      }
    }
    assert.ok(an.alive);
    assert.equal(an.jsonLogs().filter((l) => l['msg'] === 'state not recorded; retrying').length, 0, 'no write was retried as if the database were down');
  });
});
