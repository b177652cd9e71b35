import { strict as assert } from 'node:assert';
import amqplib from 'amqplib';
import { createIsolation, rabbitmqctl, type Isolation } from '../../helpers/isolation';
import { waitFor } from '../../helpers/wait';
import { AmqpTransport, type AmqpTransportOptions } from '../../../src/transport';
import { topologyNames } from '../../../src/protocol/names';

const junk = (i: number, bytes = 64) => ({ id: `junk-${i}`, type: 'task.pending', sender: 'x', timestampMs: Date.now(), kid: 'nope', body: Buffer.alloc(bytes, i % 256) });

/** The dead-letter queue's declared arguments, as the broker lists them. */
async function queueArguments(iso: Isolation, queue: string): Promise<string> {
  const out = await rabbitmqctl('list_queues', '-p', iso.vhost, 'name', 'arguments', '--no-table-headers');
  return out.split('\n').find((l) => l.startsWith(`${queue}\t`)) ?? '';
}

describe('dead-letter queue bounds (real RabbitMQ)', function () {
  this.timeout(60_000);
  let iso: Isolation;
  beforeEach(async () => { iso = await createIsolation('dlqbounds'); });
  afterEach(async () => { await iso?.destroy(); });

  const transport = (deadLetter?: AmqpTransportOptions['deadLetter']) => new AmqpTransport({
    urls: [iso.amqpUrl], names: topologyNames(iso.prefix), heartbeatSec: 5, reconnectMaxDelayMs: 1000, publishTimeoutMs: 10_000, connectionName: 'dlq',
    ...(deadLetter ? { deadLetter } : {}),
  });

  it('keeps at most the configured number of dead letters, dropping the oldest, so rejected messages cannot fill the broker', async () => {
    const t = transport({ maxLength: 5, maxBytes: 1 << 20, ttlMs: 3_600_000 });
    await t.start();
    const names = topologyNames(iso.prefix);
    const rejected: number[] = [];
    await t.consume({ name: `${iso.prefix}.victim`, kind: 'durable' }, 50, (d) => { rejected.push(1); d.reject(); });
    for (let i = 0; i < 20; i++) await t.publish({ queue: `${iso.prefix}.victim` }, junk(i), { persistent: true });
    await waitFor(() => rejected.length, (n) => n === 20, { what: 'twenty rejections' });
    await waitFor(() => t.queueDepth(names.deadLetterQueue), (n) => n === 5, { what: 'five dead letters kept' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await t.queueDepth(names.deadLetterQueue), 5);
    const args = await queueArguments(iso, names.deadLetterQueue);
    assert.match(args, /x-max-length/);
    assert.match(args, /x-max-length-bytes/);
    assert.match(args, /x-message-ttl/);
    assert.match(args, /drop-head/);
    await t.stop();
  });

  it('bounds the dead letters by default too', async () => {
    const t = transport();
    await t.start();
    const args = await queueArguments(iso, topologyNames(iso.prefix).deadLetterQueue);
    assert.match(args, /x-max-length/);
    assert.match(args, /x-message-ttl/);
    await t.stop();
  });

  it('still starts when the dead-letter queue was declared without bounds by an earlier version, and says how to bound it', async () => {
    const names = topologyNames(iso.prefix);
    const conn = await amqplib.connect(iso.amqpUrl);
    const ch = await conn.createChannel();
    await ch.assertQueue(names.deadLetterQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await conn.close();
    const warnings: string[] = [];
    const t = new AmqpTransport({
      urls: [iso.amqpUrl], names, heartbeatSec: 5, reconnectMaxDelayMs: 1000, publishTimeoutMs: 10_000, connectionName: 'dlq-old',
      onWarning: (message) => warnings.push(message),
    });
    await t.start();
    await t.publish({ queue: names.pendingBands[0]! }, junk(1), { persistent: true });
    assert.ok(warnings.some((w) => w.includes(names.deadLetterQueue) && w.includes('set_policy')), warnings.join('\n'));
    await t.stop();
  });
});
