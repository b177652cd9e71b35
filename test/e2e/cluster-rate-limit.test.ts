import { strict as assert } from 'node:assert';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

const RATE_PER_SEC = 5;
const BURST = 5;
const HAMMER_MS = 3000;

/**
 * RATE_LIMIT_RPS is the rate of a caller across the cluster: one caller spreading its requests
 * over two principals gets no more than one principal would give it (before, each principal gave
 * the whole rate, so two gave twice as much).
 */
describe('REST: the rate limit holds across principals', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let apis: Api[];

  before(async () => {
    iso = await createIsolation('clusterRate');
    cluster = new TestCluster(iso);
    const env = { RATE_LIMIT_RPS: String(RATE_PER_SEC), RATE_LIMIT_BURST: String(BURST) };
    const principals = [await cluster.start('principal', { id: 'p1', env }), await cluster.start('principal', { id: 'p2', env })];
    // Each principal must hear both before its share is a half: an operator (a bucket of its own) asks.
    for (const p of principals) {
      const ops = new Api(cluster.url(p), cluster.token('ops', 'operator'));
      await waitFor(() => ops.get('/cluster'), (r) => r.status === 200 && r.body.nodes?.principal?.alive === 2, { intervalMs: 500, what: `${p.id} sees two principals` });
    }
    apis = principals.map((p) => new Api(cluster.url(p), cluster.token('hammer', 'submitter')));
  });
  after(async () => { await cluster?.stopAll(); await iso?.destroy(); });

  it('accepts at most the cluster rate over the time plus one burst from a caller hammering both principals', async () => {
    const accepted = [0, 0];
    let refused = 0;
    const startedMs = Date.now();
    // Four clients at once, alternating between the principals.
    await Promise.all([0, 1, 2, 3].map(async (lane) => {
      for (let i = lane; Date.now() - startedMs < HAMMER_MS; i++) {
        const which = i % 2;
        const r = await apis[which]!.get('/tasks?limit=1');
        if (r.status === 200) accepted[which]!++;
        else if (r.status === 429) refused++;
        else assert.fail(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
      }
    }));
    const elapsedSec = (Date.now() - startedMs) / 1000;
    const total = accepted[0]! + accepted[1]!;
    // The bound the limit promises, whatever the speed of this machine: one principal alone would
    // give the same. Each principal granting the whole rate (the old behaviour) would pass it.
    assert.ok(total <= RATE_PER_SEC * elapsedSec + BURST, `accepted ${total} (${accepted.join(' + ')}) in ${elapsedSec.toFixed(2)} s`);
    assert.ok(refused > 0, 'the caller was refused beyond its rate');
    assert.ok(accepted[0]! > 0 && accepted[1]! > 0, `both principals served the caller: ${accepted.join(' + ')}`);
  });
});
