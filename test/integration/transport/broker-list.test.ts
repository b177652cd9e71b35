import { strict as assert } from 'node:assert';
import { createIsolation, type Isolation } from '../../helpers/isolation';
import { freePort } from '../../helpers/ports';
import { TcpProxy } from '../../helpers/tcp-proxy';
import { waitFor } from '../../helpers/wait';
import { AmqpTransport, type TransportStatus } from '../../../src/transport';
import { topologyNames } from '../../../src/protocol/names';
import type { WireMessage } from '../../../src/protocol';

/**
 * Several brokers in AMQP_URL, against the real RabbitMQ behind TCP proxies: each proxy stands for
 * one node of a cluster, and cutting it is that node going away.
 */
describe('AMQP transport: a list of brokers, and queues an earlier version declared (real RabbitMQ, proxies for brokers)', function () {
  this.timeout(60_000);
  let iso: Isolation;
  const proxies: TcpProxy[] = [];
  const transports: AmqpTransport[] = [];

  before(async () => { iso = await createIsolation('brokerlist'); });
  after(async () => {
    for (const t of transports) await t.stop().catch(() => undefined);
    for (const p of proxies) await p.stop();
    await iso?.destroy();
  });

  const proxy = async () => {
    const p = new TcpProxy(5672);
    await p.start();
    proxies.push(p);
    return p;
  };
  const via = (port: number) => iso.amqpUrl.replace('@127.0.0.1:5672/', `@127.0.0.1:${port}/`);
  const transport = (urls: string[], statuses: TransportStatus[]) => {
    const t = new AmqpTransport({ urls, names: topologyNames(iso.prefix), heartbeatSec: 5, reconnectMaxDelayMs: 500, publishTimeoutMs: 10_000, connectionName: 'broker-list' });
    t.onStatus((s) => statuses.push(s));
    transports.push(t);
    return t;
  };

  it('connects to the first broker of the list that answers, and says which by host and port', async () => {
    const closed = await freePort();
    const up = await proxy();
    const statuses: TransportStatus[] = [];
    const t = transport([via(closed), via(up.port)], statuses);
    await t.start();
    assert.ok(t.connected);
    assert.deepEqual(statuses.filter((s) => s.type === 'connected'), [{ type: 'connected', reconnect: false, broker: `127.0.0.1:${up.port}` }]);
  });

  it('moves to the next broker when its broker goes away, and consumes there what is published there', async () => {
    const [a, b] = [await proxy(), await proxy()];
    const statuses: TransportStatus[] = [];
    const t = transport([via(a.port), via(b.port)], statuses);
    await t.start();
    const queue = `${iso.prefix}.failover`;
    const got: string[] = [];
    await t.consume({ name: queue, kind: 'quorum' }, 10, (d) => { got.push(d.message.id); d.ack(); });
    a.cut();
    await waitFor(() => statuses.filter((s) => s.type === 'connected' && s.reconnect), (c) => c.length === 1, { what: 'a reconnect' });
    assert.equal((statuses.find((s) => s.type === 'disconnected') as { broker?: string }).broker, `127.0.0.1:${a.port}`);
    assert.equal((statuses.filter((s) => s.type === 'connected').at(-1) as { broker?: string }).broker, `127.0.0.1:${b.port}`);
    const m: WireMessage = { id: 'after-failover', type: 'task.event', sender: 'test', timestampMs: Date.now(), kid: 'k', body: Buffer.from('x') };
    await t.publish({ queue }, m, { persistent: true });
    await waitFor(() => got, (g) => g.includes(m.id), { what: 'the message published after the failover' });
  });

  it('keeps consuming an inbox an earlier version declared as a classic queue, with one warning, instead of failing every connect', async () => {
    const queue = `${iso.prefix}.inbox.ki.old`;
    const old = new AmqpTransport({ urls: [iso.amqpUrl], names: topologyNames(iso.prefix), heartbeatSec: 5, reconnectMaxDelayMs: 500, publishTimeoutMs: 10_000, connectionName: 'old' });
    transports.push(old);
    await old.start();
    await (await old.consume({ name: queue, kind: 'durable' }, 1, () => undefined)).cancel();
    const warnings: string[] = [];
    const t = new AmqpTransport({ urls: [iso.amqpUrl], names: topologyNames(iso.prefix), heartbeatSec: 5, reconnectMaxDelayMs: 500, publishTimeoutMs: 10_000, connectionName: 'new', onWarning: (w) => warnings.push(w) });
    transports.push(t);
    await t.start();
    const got: string[] = [];
    await t.consume({ name: queue, kind: 'quorum' }, 10, (d) => { got.push(d.message.id); d.ack(); });
    await t.publish({ queue }, { id: 'to-old-inbox', type: 'task.assign', sender: 'test', timestampMs: Date.now(), kid: 'k', body: Buffer.from('x') });
    await waitFor(() => got, (g) => g.includes('to-old-inbox'), { what: 'a delivery from the classic queue' });
    assert.equal(warnings.filter((w) => w.includes(queue)).length, 1, warnings.join('\n'));
    assert.match(warnings.find((w) => w.includes(queue))!, /x-queue-type/);
  });
});
