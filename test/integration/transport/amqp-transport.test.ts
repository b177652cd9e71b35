import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { createIsolation, rabbitmqctl, type Isolation } from '../../helpers/isolation';
import { waitFor } from '../../helpers/wait';
import { AmqpTransport, MessageBus } from '../../../src/transport';
import { uncheckedDestination } from '../../../src/protocol/destinations';
import { topologyNames } from '../../../src/protocol/names';
import { EnvelopeCodec, NodeTokenAuthority, OwnToken, parseKeyRing, ReplayGuard } from '../../../src/security';
import { createMetrics, silentLogger } from '../../../src/observability';
import { DEV_AES_KEYS, DEV_JWT_SECRET } from '../../../src/config/schema';
import { PublishFailedError } from '../../../src/errors';

function makeBus(iso: Isolation, nodeId: string) {
  const names = topologyNames(iso.prefix);
  const tokens = new NodeTokenAuthority(DEV_JWT_SECRET, { ttlSec: 600, clockToleranceSec: 5 });
  const codec = new EnvelopeCodec({
    nodeId, keys: parseKeyRing(DEV_AES_KEYS), tokens, ownToken: new OwnToken(tokens, { sub: nodeId, role: 'principal' }, 600),
    replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 1 << 20,
  });
  const transport = new AmqpTransport({ urls: [iso.amqpUrl], names, heartbeatSec: 5, reconnectMaxDelayMs: 1000, publishTimeoutMs: 10_000, connectionName: nodeId });
  const registry = new Registry();
  const metrics = createMetrics(registry, 'principal');
  return { names, transport, metrics, registry, bus: new MessageBus({ transport, codec, metrics, log: silentLogger() }) };
}

const spec = (i: number) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: 'echo', payload: { i }, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] },
  timeoutMs: 1000, maxAttempts: 1, owner: 'o', createdAtMs: Date.now(),
});

describe('AMQP transport against the real RabbitMQ', function () {
  this.timeout(60_000);
  let iso: Isolation;

  before(async () => { iso = await createIsolation('transport'); });
  after(async () => { await iso?.destroy(); });

  it('publishes with confirms into a quorum queue and consumes with manual acks', async () => {
    const { bus, names, transport } = makeBus(iso, 'p1');
    await transport.start();
    const seen = new Set<number>();
    await bus.subscribe({ name: names.pending, kind: 'quorum' }, 100, ['task.pending'], ({ msg, delivery }) => {
      seen.add(((msg.payload as { items: { task: { payload: { i: number } } }[] }).items[0]!.task.payload).i);
      delivery.ack();
    });
    await Promise.all(Array.from({ length: 300 }, (_, i) => bus.send(uncheckedDestination({ queue: names.pending }), 'task.pending', { v: 1, items: [{ task: spec(i), attempts: 0 }] }, { persistent: true })));
    await waitFor(() => seen.size, (n) => n === 300, { what: '300 deliveries' });
    await transport.stop();
  });

  it('applies a changed prefetch to a live consumer, pauses at 0 and resumes, without two consumers', async () => {
    const { bus, names, transport } = makeBus(iso, 'prefetch');
    await transport.start();
    const queue = `${names.pending}.prefetch`;
    const held: { ack(): void }[] = [];
    const consumer = await bus.subscribe({ name: queue, kind: 'quorum' }, 2, ['task.pending'], ({ delivery }) => { held.push(delivery); });
    const send = (n: number, from: number) => Promise.all(Array.from({ length: n }, (_, i) => bus.send(uncheckedDestination({ queue }), 'task.pending', { v: 1, items: [{ task: spec(from + i), attempts: 0 }] }, { persistent: true })));
    await send(20, 0);
    await waitFor(() => held.length, (n) => n === 2, { what: 'two deliveries under prefetch 2' });
    // Changes in flight at once: only the last may stand, on one consumer.
    void consumer.setPrefetch(3);
    await consumer.setPrefetch(6);
    await waitFor(() => held.length, (n) => n >= 8, { what: 'six more deliveries once the limit is 6' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(held.length, 8, 'the old consumer took nothing more, and there is no second one');
    const consumers = await rabbitmqctl('list_consumers', '-p', iso.vhost, 'queue_name', 'prefetch_count', '--no-table-headers', '--quiet');
    assert.deepEqual(consumers.split('\n').filter((l) => l.startsWith(`${queue}\t`)), [`${queue}\t6`]);
    await consumer.setPrefetch(0);
    for (const d of held.splice(0)) d.ack();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(held.length, 0, 'paused: nothing delivered');
    await consumer.setPrefetch(4);
    await waitFor(() => held.length, (n) => n === 4, { what: 'four deliveries after resuming with 4' });
    for (const d of held.splice(0)) d.ack();
    await waitFor(() => held.length, (n) => n === 4, { what: 'the next four once those are acked' });
    await transport.stop();
  });

  it('loses nothing when the broker closes every connection mid-stream', async () => {
    const consumer = makeBus(iso, 'c1');
    const producer = makeBus(iso, 'p2');
    await consumer.transport.start();
    await producer.transport.start();
    const seen = new Set<number>();
    await consumer.bus.subscribe({ name: `${consumer.names.pending}`, kind: 'quorum' }, 50, ['task.pending'], ({ msg, delivery }) => {
      seen.add(((msg.payload as { items: { task: { payload: { i: number } } }[] }).items[0]!.task.payload).i);
      delivery.ack();
    });
    const reconnected = { c: false, p: false };
    consumer.transport.onStatus((st) => { if (st.type === 'connected' && st.reconnect) reconnected.c = true; });
    producer.transport.onStatus((st) => { if (st.type === 'connected' && st.reconnect) reconnected.p = true; });
    let sent = 0;
    let stop = false;
    const sendOne = async (i: number) => {
      for (;;) {
        try {
          await producer.bus.send(uncheckedDestination({ queue: producer.names.pending }), 'task.pending', { v: 1, items: [{ task: spec(1000 + i), attempts: 0 }] }, { persistent: true });
          return;
        } catch (err) {
          assert.ok(err instanceof PublishFailedError, `publish fails with PublishFailedError, got ${String(err)}`);
        }
      }
    };
    // Keep publishing until both sides have come back, then a little more.
    const sending = (async () => {
      let extra = 0;
      while (!stop && extra < 100) {
        await Promise.all(Array.from({ length: 10 }, (_, k) => sendOne(sent + k)));
        sent += 10;
        if (reconnected.c && reconnected.p) extra += 10;
      }
    })();
    await waitFor(() => seen.size, (n) => n > 100, { what: 'some deliveries before the cut' });
    await rabbitmqctl('close_all_connections', '--vhost', iso.vhost, 'test cut');
    await waitFor(() => reconnected, (r) => r.c && r.p, { timeoutMs: 20_000, what: 'both sides reconnected' }).catch((err: unknown) => { stop = true; throw err; });
    await sending;
    await waitFor(() => seen.size, (n) => n === sent, { timeoutMs: 30_000, what: 'every published message delivered after reconnect' });
    assert.ok(sent > 200, `published ${sent} across the cut`);
    await consumer.transport.stop();
    await producer.transport.stop();
  });

  it('dead-letters and counts a tampered message, and keeps consuming', async () => {
    const a = makeBus(iso, 'a1');
    await a.transport.start();
    const got: number[] = [];
    await a.bus.subscribe({ name: `${iso.prefix}.tamper`, kind: 'durable' }, 10, ['task.pending'], ({ msg, delivery }) => {
      got.push(((msg.payload as { items: { task: { payload: { i: number } } }[] }).items[0]!.task.payload).i);
      delivery.ack();
    });
    // A raw publish with a corrupted body straight through the transport.
    await a.transport.publish({ queue: `${iso.prefix}.tamper` }, { id: 'x1', type: 'task.pending', sender: 'a1', timestampMs: Date.now(), kid: 'dev1', body: Buffer.alloc(64, 7) });
    await a.bus.send(uncheckedDestination({ queue: `${iso.prefix}.tamper` }), 'task.pending', { v: 1, items: [{ task: spec(7), attempts: 0 }] });
    await waitFor(() => got, (g) => g.includes(7), { what: 'valid message after the tampered one' });
    const rejected = await a.registry.getSingleMetric('anki_messages_rejected_total')!.get();
    const decrypt = rejected.values.find((v) => v.labels['reason'] === 'decrypt');
    assert.equal(decrypt?.value, 1);
    await waitFor(() => a.transport.queueDepth(a.names.deadLetterQueue), (n) => n >= 1, { what: 'message in the dead-letter queue' });
    await a.transport.stop();
  });

  it('carries a message signature (x-sig) byte for byte, and no signature when there is none', async () => {
    const a = makeBus(iso, 's1');
    await a.transport.start();
    const got: (Buffer | undefined)[] = [];
    await a.transport.consume({ name: `${iso.prefix}.sig`, kind: 'durable' }, 10, (d) => { got.push(d.message.sig); d.ack(); });
    const sig = randomBytes(64);
    const wire = { type: 'node.heartbeat', sender: 's1', timestampMs: Date.now(), kid: 'dev1', body: Buffer.alloc(64, 1) };
    await a.transport.publish({ queue: `${iso.prefix}.sig` }, { ...wire, id: 'sig1', sig });
    await a.transport.publish({ queue: `${iso.prefix}.sig` }, { ...wire, id: 'sig2' });
    await waitFor(() => got.length, (n) => n === 2, { what: 'both deliveries' });
    assert.deepEqual(got[0], sig);
    assert.equal(got[1], undefined);
    await a.transport.stop();
  });
});
