import { strict as assert } from 'node:assert';
import { Api, TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { TcpProxy } from '../helpers/tcp-proxy';
import { waitFor } from '../helpers/wait';

describe('when PostgreSQL is unreachable from the principal', function () {
  this.timeout(90_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let proxy: TcpProxy;

  before(async () => {
    iso = await createIsolation('outage');
    proxy = new TcpProxy(5432);
    await proxy.start();
    const proxiedUrl = iso.databaseUrl.replace(':5432/', `:${proxy.port}/`);
    cluster = new TestCluster(iso, { DATABASE_URL: proxiedUrl, DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '2000' });
    await cluster.start('principal');
    await cluster.start('an', { env: { DATABASE_URL: iso.databaseUrl } });
    await cluster.start('ki', { env: { DATABASE_URL: '' } });
  });

  after(async () => {
    await cluster?.stopAll();
    await proxy?.stop();
    await iso?.destroy();
  });

  it('answers 503 with Retry-After, keeps nothing, and the id is unknown once the DB is back', async () => {
    const alice = new Api(cluster.url(), cluster.token('alice', 'submitter'));
    const admin = alice.as(cluster.token('root', 'admin'));
    const ok = await alice.post('/tasks', { type: 'echo', payload: 'before' });
    assert.equal(ok.status, 201);

    proxy.cut();
    const refused = await alice.post('/tasks', { type: 'echo', payload: 'during' });
    assert.equal(refused.status, 503);
    assert.match(refused.headers.get('content-type') ?? '', /problem\+json/);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After given');
    const lostId = refused.body.taskId as string;
    assert.match(lostId, /^[0-9a-f-]{36}$/);
    assert.equal((await alice.get(`/tasks/${lostId}`)).status, 503, 'reads fail cleanly too, with 503');

    proxy.restore();
    const after_ = await waitFor(() => alice.get(`/tasks/${lostId}`), (r) => r.status !== 503, { timeoutMs: 20_000, what: 'store back' });
    assert.equal(after_.status, 404, 'the refused task was never stored');
    const done = await waitFor(() => alice.get(`/tasks/${ok.body.id}`), (r) => r.body.status === 'succeeded');
    assert.deepEqual(done.body.result, 'before');
    // The stored task leaves the map when its finish event arrives; the refused one never entered it.
    await waitFor(() => admin.get('/cluster'), (r) => r.body.admitted === 0, { what: "the principal's map holds nothing it did not store" });
    const again = await alice.post('/tasks', { type: 'echo', payload: 'after' });
    assert.equal(again.status, 201, 'admission works again');
  });
});
