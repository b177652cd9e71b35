import { strict as assert } from 'node:assert';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { freePort } from '../helpers/ports';
import { TcpProxy } from '../helpers/tcp-proxy';
import { waitFor } from '../helpers/wait';

const RETRY_LINE = 'database not reachable yet; retrying';

async function probe(node: NodeProcess, path: '/healthz' | '/readyz'): Promise<{ status: number; body: { failing?: string[] } }> {
  const r = await fetch(`http://127.0.0.1:${node.metricsPort}${path}`);
  return { status: r.status, body: (await r.json()) as { failing?: string[] } };
}

/** Lines a crash would print: a stack frame or the fatal handler's prefix. */
function crashLines(node: NodeProcess): string[] {
  return node.logs.filter((l) => /^\s+at |fatal:|\\n\s+at /.test(l));
}

describe('a principal whose database is not there yet', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let proxy: TcpProxy | undefined;

  before(async () => {
    iso = await createIsolation('dbstart');
    cluster = new TestCluster(iso, { DB_CONNECT_TIMEOUT_MS: '1000' });
  });

  after(async () => {
    await cluster?.stopAll();
    await proxy?.stop();
    await iso?.destroy();
  });

  it('stays up, logs one line per try, is alive but not ready, then serves once the database answers', async () => {
    const port = await freePort();
    const url = iso.databaseUrl.replace(':5432/', `:${port}/`);
    const principal = await cluster.start('principal', { env: { DATABASE_URL: url }, waitReady: false });

    await waitFor(async () => principal.jsonLogs().filter((l) => l['msg'] === RETRY_LINE).length, (n) => n >= 2, { timeoutMs: 30_000, what: 'two retry lines' });
    assert.ok(principal.alive, `the principal runs on:\n${principal.logs.slice(-5).join('\n')}`);
    assert.equal((await probe(principal, '/healthz')).status, 200, 'alive');
    const ready = await probe(principal, '/readyz');
    assert.equal(ready.status, 503, 'not ready without its store');
    assert.ok(ready.body.failing?.includes('store'), `store named among ${JSON.stringify(ready.body.failing)}`);
    const first = principal.jsonLogs().find((l) => l['msg'] === RETRY_LINE)!;
    assert.equal(first['target'], `127.0.0.1:${port}`);
    assert.match(String(first['err']), /ECONNREFUSED/);
    assert.deepEqual(crashLines(principal), []);

    proxy = new TcpProxy(5432);
    await proxy.start(port);
    await cluster.waitReady(principal, 30_000);
    await cluster.start('an');
    await cluster.start('ki', { env: { DATABASE_URL: '' } });
    const alice = new Api(cluster.url(principal), cluster.token('alice', 'submitter'));
    const created = await alice.post('/tasks', { type: 'echo', payload: 'late database' });
    assert.equal(created.status, 201);
    const done = await waitFor(() => alice.get(`/tasks/${created.body.id}`), (r) => r.body.status === 'succeeded', { what: 'the task done' });
    assert.equal(done.body.result, 'late database');
    assert.deepEqual(crashLines(principal), []);
  });

  it('exits 1 with one line naming the host, not the password, once its deadline passes', async () => {
    const port = await freePort();
    const url = iso.databaseUrl.replace(':5432/', `:${port}/`).replace('postgres://postgres@', 'postgres://postgres:hunter2-not-logged@');
    const node = await cluster.start('principal', { env: { DATABASE_URL: url, DB_STARTUP_TIMEOUT_MS: '1500' }, waitReady: false });
    const code = await waitFor(async () => node.exitCode, (c) => c !== undefined, { timeoutMs: 30_000, what: 'the principal exits' });
    assert.equal(code, 1);
    const plain = node.logs.filter((l) => !l.startsWith('{'));
    assert.equal(plain.length, 1, `one line besides the JSON log:\n${plain.join('\n')}`);
    assert.match(plain[0]!, new RegExp(`^database at 127\\.0\\.0\\.1:${port} not reachable within 1500 ms \\(\\d+ attempts, last error: .*ECONNREFUSED.*\\); giving up$`));
    assert.ok(!node.logs.join('\n').includes('hunter2-not-logged'), 'the password is never logged');
    assert.deepEqual(crashLines(node), []);
  });
});

describe('readiness of a running principal follows its database', function () {
  this.timeout(90_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let proxy: TcpProxy;

  before(async () => {
    iso = await createIsolation('dbready');
    proxy = new TcpProxy(5432);
    await proxy.start();
    cluster = new TestCluster(iso, { DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '2000', DB_PROBE_INTERVAL_MS: '300', DB_PROBE_TIMEOUT_MS: '500' });
  });

  after(async () => {
    await cluster?.stopAll();
    await proxy?.stop();
    await iso?.destroy();
  });

  it('turns not ready while the database is away and ready again when it answers', async () => {
    const principal = await cluster.start('principal', { env: { DATABASE_URL: iso.databaseUrl.replace(':5432/', `:${proxy.port}/`) } });
    proxy.cut();
    const away = await waitFor(() => probe(principal, '/readyz'), (r) => r.status === 503, { timeoutMs: 20_000, what: 'not ready' });
    assert.ok(away.body.failing?.includes('store'), `store named among ${JSON.stringify(away.body.failing)}`);
    assert.equal((await probe(principal, '/healthz')).status, 200, 'still alive');
    proxy.restore();
    await waitFor(() => probe(principal, '/readyz'), (r) => r.status === 200, { timeoutMs: 20_000, what: 'ready again' });
    const transitions = principal.jsonLogs().filter((l) => /database (not reachable; not ready|reachable again)/.test(String(l['msg'])));
    assert.deepEqual(transitions.map((l) => l['msg']), ['database not reachable; not ready until it answers', 'database reachable again; ready'], 'only transitions are logged');
  });
});
