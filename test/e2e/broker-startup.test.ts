import { strict as assert } from 'node:assert';
import { TestCluster } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { freePort } from '../helpers/ports';
import { TcpProxy } from '../helpers/tcp-proxy';
import { waitFor } from '../helpers/wait';

const RETRY_LINE = 'broker not reachable yet; retrying';

describe('a node whose broker is not there yet', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let cluster: TestCluster;
  let proxy: TcpProxy | undefined;
  let second: TcpProxy | undefined;

  before(async () => {
    iso = await createIsolation('mqstart');
    cluster = new TestCluster(iso);
  });

  after(async () => {
    await cluster?.stopAll();
    await proxy?.stop();
    await second?.stop();
    await iso?.destroy();
  });

  it('stays up, logs one line per try, and is ready once the broker answers', async () => {
    const port = await freePort();
    const ki = await cluster.start('ki', { env: { DATABASE_URL: '', AMQP_URL: iso.amqpUrl.replace(':5672/', `:${port}/`) }, waitReady: false });
    await waitFor(async () => ki.jsonLogs().filter((l) => l['msg'] === RETRY_LINE).length, (n) => n >= 2, { timeoutMs: 30_000, what: 'two retry lines' });
    assert.ok(ki.alive);
    assert.equal((await fetch(`http://127.0.0.1:${ki.metricsPort}/healthz`)).status, 200);
    const ready = await fetch(`http://127.0.0.1:${ki.metricsPort}/readyz`);
    assert.equal(ready.status, 503);
    assert.ok(((await ready.json()) as { failing: string[] }).failing.includes('broker'));
    assert.equal(ki.jsonLogs().find((l) => l['msg'] === RETRY_LINE)?.['target'], `127.0.0.1:${port}`);

    proxy = new TcpProxy(5672);
    await proxy.start(port);
    await cluster.waitReady(ki, 30_000);
    assert.deepEqual(ki.logs.filter((l) => /^\s+at |fatal:|\\n\s+at /.test(l)), []);
  });

  it('tries every broker of an AMQP_URL list, names each by host and port only, and is ready once one of them answers', async () => {
    const [first, other] = [await freePort(), await freePort()];
    const list = [first, other].map((port) => iso.amqpUrl.replace(':5672/', `:${port}/`)).join(',');
    const ki = await cluster.start('ki', { env: { DATABASE_URL: '', AMQP_URL: list }, waitReady: false });
    await waitFor(async () => ki.jsonLogs().filter((l) => l['msg'] === RETRY_LINE).length, (n) => n >= 1, { timeoutMs: 30_000, what: 'a retry line' });
    assert.equal(ki.jsonLogs().find((l) => l['msg'] === RETRY_LINE)?.['target'], `127.0.0.1:${first}, 127.0.0.1:${other}`);

    second = new TcpProxy(5672);
    await second.start(other);
    await cluster.waitReady(ki, 30_000);
    assert.deepEqual(ki.jsonLogs().filter((l) => l['msg'] === 'broker connected').map((l) => l['broker']), [`127.0.0.1:${other}`]);
    assert.equal(ki.logs.some((l) => l.includes('amqp://')), false, 'no broker URL in the logs');
  });

  it('exits 1 with one line naming the host once the deadline passes', async () => {
    const port = await freePort();
    const ki = await cluster.start('ki', { env: { DATABASE_URL: '', AMQP_URL: iso.amqpUrl.replace(':5672/', `:${port}/`), AMQP_STARTUP_TIMEOUT_MS: '1500' }, waitReady: false });
    assert.equal(await ki.exited, 1);
    const plain = ki.logs.filter((l) => !l.startsWith('{'));
    assert.equal(plain.length, 1, plain.join('\n'));
    assert.match(plain[0]!, new RegExp(`^broker at 127\\.0\\.0\\.1:${port} not reachable within 1500 ms .*ECONNREFUSED.*; giving up$`));
  });
});
