import { strict as assert } from 'node:assert';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { mapLimit, waitFor } from '../helpers/wait';

describe('overload: submitting faster than the cluster can finish', function () {
  this.timeout(90_000);
  let iso: Isolation;
  let cluster: TestCluster;

  before(async () => {
    iso = await createIsolation('overload');
    cluster = new TestCluster(iso, { PRINCIPAL_MAX_ADMITTED: '60' });
    await cluster.start('principal');
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1', env: { KI_SLOTS: '2' } });
  });
  after(async () => {
    await cluster?.stopAll();
    await iso?.destroy();
  });

  it('answers 503 with Retry-After beyond the admission limit, and admits again once work drains', async () => {
    const alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    const answers = await mapLimit(Array.from({ length: 150 }, (_, i) => i), 16, (i) => alice.post('/tasks', { type: 'sleep', payload: { ms: 200 + (i % 3) } }));
    const accepted = answers.filter((r) => r.status === 201);
    const refused = answers.filter((r) => r.status === 503);
    assert.equal(accepted.length + refused.length, 150, `only 201 or 503: ${[...new Set(answers.map((r) => r.status))].join(',')}`);
    assert.ok(accepted.length >= 60 && accepted.length < 150, `${accepted.length} admitted`);
    assert.ok(refused.length > 0, 'some were refused');
    assert.ok(Number(refused[0]!.headers.get('retry-after')) >= 1);
    assert.match(refused[0]!.body.detail, /unfinished tasks|waiting/);
    // Every admitted task still finishes; then there is room again.
    for (const r of accepted) await waitFor(() => alice.get(`/tasks/${r.body.id}`), (t) => t.body.status === 'succeeded', { timeoutMs: 60_000 });
    const later = await waitFor(() => alice.post('/tasks', { type: 'echo', payload: 'room again' }), (r) => r.status === 201, { timeoutMs: 30_000, what: 'admission reopens' });
    assert.equal(later.status, 201);
  });
});
