import { strict as assert } from 'node:assert';
import { randomBytes, randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { cancelRoute, uncheckedDestination } from '../../../src/protocol/destinations';
import { MESSAGE_TYPES, type MessageOf } from '../../../src/protocol/messages';
import { topologyNames } from '../../../src/protocol/names';
import { createMetrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import { EnvelopeCodec, type WireMessage } from '../../../src/security/envelope';
import { parseKeyRing } from '../../../src/security/key-ring';
import { NodeTokenAuthority, OwnToken } from '../../../src/security/node-tokens';
import type { NodeRole } from '../../../src/security/permissions';
import { ReplayGuard } from '../../../src/security/replay-guard';
import { MessageBus, type Received } from '../../../src/transport/message-bus';
import type { ConsumerHandle, Delivery, PublishOptions, QueueSpec, Target, Transport, TransportStatus } from '../../../src/transport/types';

type Settlement = 'ack' | 'reject' | 'requeue';

/** A delivery that records how it was settled and lets a test wait for that. */
class FakeDelivery implements Delivery {
  settled: Settlement | undefined;
  readonly #waiters: ((s: Settlement) => void)[] = [];
  constructor(readonly message: WireMessage, readonly redelivered = false) {}
  ack(): void { this.#settle('ack'); }
  reject(): void { this.#settle('reject'); }
  requeue(): void { this.#settle('requeue'); }
  #settle(s: Settlement): void {
    if (this.settled) return;
    this.settled = s;
    for (const w of this.#waiters.splice(0)) w(s);
  }
  /** Resolves with the settlement, or rejects after a deadline. */
  whenSettled(timeoutMs = 5000): Promise<Settlement> {
    if (this.settled) return Promise.resolve(this.settled);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('delivery was never settled')), timeoutMs);
      this.#waiters.push((s) => { clearTimeout(timer); resolve(s); });
    });
  }
}

/** An in-memory Transport: publishes are recorded, consumers are called by `deliver`. Never opens a socket. */
class FakeTransport implements Transport {
  connected = false;
  readonly published: { target: Target; message: WireMessage; options?: PublishOptions }[] = [];
  readonly #consumers = new Map<string, { prefetch: number; handler: (d: Delivery) => void }>();
  readonly #listeners: ((s: TransportStatus) => void)[] = [];

  async start(): Promise<void> {
    this.connected = true;
    for (const l of this.#listeners) l({ type: 'connected', reconnect: false });
  }
  async stop(): Promise<void> { this.connected = false; }
  onStatus(listener: (status: TransportStatus) => void): void { this.#listeners.push(listener); }
  async publish(target: Target, message: WireMessage, options?: PublishOptions): Promise<void> {
    this.published.push({ target, message, ...(options ? { options } : {}) });
  }
  async consume(queue: QueueSpec, prefetch: number, handler: (delivery: Delivery) => void): Promise<ConsumerHandle> {
    this.#consumers.set(queue.name, { prefetch, handler });
    return {
      setPrefetch: async (count) => { const c = this.#consumers.get(queue.name); if (c) c.prefetch = count; },
      cancel: async () => { this.#consumers.delete(queue.name); },
    };
  }
  async queueDepth(): Promise<number> { return 0; }
  async deleteQueue(queue: string): Promise<void> { this.#consumers.delete(queue); }

  prefetchOf(queue: string): number | undefined {
    return this.#consumers.get(queue)?.prefetch;
  }

  deliver(queue: string, message: WireMessage, redelivered = false): FakeDelivery {
    const consumer = this.#consumers.get(queue);
    if (!consumer) throw new Error(`nobody consumes ${queue}`);
    const delivery = new FakeDelivery(message, redelivered);
    consumer.handler(delivery);
    return delivery;
  }
}

const JWT_SECRET = 'message-bus-test-secret-0123456789abcdefghijkl';
const KEYS = `k1:${randomBytes(32).toString('base64')}`;

function codecFor(nodeId: string, role: NodeRole, keys = KEYS): EnvelopeCodec {
  const tokens = new NodeTokenAuthority(JWT_SECRET, { ttlSec: 600, clockToleranceSec: 5 });
  return new EnvelopeCodec({
    nodeId, keys: parseKeyRing(keys), ownToken: new OwnToken(tokens, { sub: nodeId, role }, 600), tokens,
    replay: new ReplayGuard(60_000), replayWindowMs: 60_000, maxMessageBytes: 64 * 1024,
  });
}

/** A node's bus over the fake transport, with its own metrics registry. */
function node(nodeId = 'an-1', role: NodeRole = 'an', codec: EnvelopeCodec = codecFor(nodeId, role)) {
  const registry = new Registry();
  const metrics = createMetrics(registry, role);
  const transport = new FakeTransport();
  const bus = new MessageBus({ transport, codec, metrics, log: silentLogger() });
  const rejected = async (reason: string): Promise<number> => {
    const counter = registry.getSingleMetric('anki_messages_rejected_total');
    assert.ok(counter, 'anki_messages_rejected_total is registered');
    const metric = await counter.get();
    return metric.values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
  };
  return { bus, transport, registry, rejected };
}

const QUEUE: QueueSpec = { name: 'test.inbox.an.an-1', kind: 'durable' };

const cancel = (): MessageOf<'task.cancel'> => ({ v: 1, taskId: randomUUID(), reason: 'user asked' });

describe('MessageBus', () => {
  it('seals what it sends and publishes it to the target with the publish options', async () => {
    const { bus, transport } = node('principal-1', 'principal');
    const payload = cancel();
    await bus.send(cancelRoute(topologyNames('test'), 'ki-1'), 'task.cancel', payload, { persistent: true });
    assert.equal(transport.published.length, 1);
    const { target, message, options } = transport.published[0]!;
    assert.deepEqual(target, { exchange: 'test.control', routingKey: 'cancel.ki-1' });
    assert.equal(options?.persistent, true);
    assert.equal(message.type, 'task.cancel');
    assert.equal(message.sender, 'principal-1');
    assert.equal(message.body.includes(Buffer.from(payload.taskId)), false);
    assert.deepEqual(codecFor('x', 'ki').open(message).payload, payload);
  });

  it('hands a valid message to the handler with its sender, and leaves settling to the handler', async () => {
    const receiver = node('ki-1', 'ki');
    const sender = node('principal-1', 'principal');
    const got: Received[] = [];
    await receiver.bus.subscribe(QUEUE, 4, MESSAGE_TYPES, (r) => { got.push(r); });
    const payload = cancel();
    await sender.bus.send(uncheckedDestination({ queue: QUEUE.name }), 'task.cancel', payload);

    const delivery = receiver.transport.deliver(QUEUE.name, sender.transport.published[0]!.message);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.msg.type, 'task.cancel');
    assert.equal(got[0]!.msg.sender, 'principal-1');
    assert.equal(got[0]!.msg.senderRole, 'principal');
    assert.deepEqual(got[0]!.msg.payload, payload);
    assert.equal(got[0]!.delivery, delivery);
    assert.equal(delivery.settled, undefined);
    got[0]!.delivery.ack();
    assert.equal(delivery.settled, 'ack');
    assert.equal(await receiver.rejected('decrypt'), 0);
  });

  it('rejects a delivery that fails decryption, counts it under decrypt, and never calls the handler', async () => {
    const receiver = node('ki-1', 'ki');
    let calls = 0;
    await receiver.bus.subscribe(QUEUE, 4, MESSAGE_TYPES, () => { calls++; });
    const wire = codecFor('principal-1', 'principal').seal('task.cancel', cancel());
    const tampered = { ...wire, body: Buffer.from(wire.body) };
    tampered.body[14] = tampered.body[14]! ^ 0x55;

    const delivery = receiver.transport.deliver(QUEUE.name, tampered);
    assert.equal(delivery.settled, 'reject');
    assert.equal(calls, 0);
    assert.equal(await receiver.rejected('decrypt'), 1);
    assert.equal(await receiver.rejected('role'), 0);
  });

  it('counts each rejection under its own reason', async () => {
    const receiver = node('an-1', 'an');
    let calls = 0;
    await receiver.bus.subscribe(QUEUE, 4, MESSAGE_TYPES, () => { calls++; });

    const fromKi = codecFor('ki-1', 'ki').seal('task.pending', {
      v: 1,
      items: [{ attempts: 0, task: { id: randomUUID(), type: 'echo', payload: null, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, timeoutMs: 1000, maxAttempts: 1, owner: 'o', createdAtMs: 0 } }],
    });
    assert.equal(receiver.transport.deliver(QUEUE.name, fromKi).settled, 'reject');

    const otherKey = codecFor('principal-1', 'principal', `k7:${randomBytes(32).toString('base64')}`).seal('task.cancel', cancel());
    assert.equal(receiver.transport.deliver(QUEUE.name, otherKey).settled, 'reject');

    const badSchema = codecFor('principal-1', 'principal').seal('task.cancel', { v: 1, taskId: 'nope', reason: '' } as unknown as MessageOf<'task.cancel'>);
    assert.equal(receiver.transport.deliver(QUEUE.name, badSchema).settled, 'reject');

    assert.equal(calls, 0);
    assert.equal(await receiver.rejected('role'), 1);
    assert.equal(await receiver.rejected('unknown_key'), 1);
    assert.equal(await receiver.rejected('schema'), 1);
  });

  it('rejects a well-sealed message of a type its queue does not carry, under schema, and never calls the handler', async () => {
    const receiver = node('an-1', 'an');
    const got: Received[] = [];
    await receiver.bus.subscribe(QUEUE, 4, ['task.pending'], (r) => { got.push(r); });
    // Authentic and valid for its own type, sent by a role that may send it: only the queue is wrong.
    const tick = codecFor('principal-1', 'principal').seal('election.tick', { v: 1, from: 'principal-1', atMs: Date.now() });
    assert.equal(receiver.transport.deliver(QUEUE.name, tick).settled, 'reject');
    assert.equal(got.length, 0);
    assert.equal(await receiver.rejected('schema'), 1);

    const pending = codecFor('principal-1', 'principal').seal('task.pending', {
      v: 1,
      items: [{ attempts: 0, task: { id: randomUUID(), type: 'echo', payload: null, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, timeoutMs: 1000, maxAttempts: 1, owner: 'o', createdAtMs: 0 } }],
    });
    receiver.transport.deliver(QUEUE.name, pending);
    assert.deepEqual(got.map((r) => r.msg.type), ['task.pending'], 'the type it carries still reaches the handler');
  });

  it('rejects a replayed message and counts it, but passes a redelivered one to the handler', async () => {
    const receiver = node('ki-1', 'ki');
    const got: Received[] = [];
    await receiver.bus.subscribe(QUEUE, 4, MESSAGE_TYPES, (r) => { got.push(r); });
    const wire = codecFor('principal-1', 'principal').seal('task.cancel', cancel());

    receiver.transport.deliver(QUEUE.name, wire);
    const replay = receiver.transport.deliver(QUEUE.name, wire);
    const redelivery = receiver.transport.deliver(QUEUE.name, wire, true);

    assert.equal(replay.settled, 'reject');
    assert.equal(redelivery.settled, undefined);
    assert.equal(got.length, 2);
    assert.equal(await receiver.rejected('replay'), 1);
  });

  it('counts a failure that is not a security rejection as malformed and rejects it', async () => {
    const failing = { open: () => { throw new TypeError('unexpected'); }, seal: () => { throw new Error('unused'); } } as unknown as EnvelopeCodec;
    const receiver = node('an-1', 'an', failing);
    let calls = 0;
    await receiver.bus.subscribe(QUEUE, 4, MESSAGE_TYPES, () => { calls++; });
    const wire = codecFor('principal-1', 'principal').seal('task.cancel', cancel());
    assert.equal(receiver.transport.deliver(QUEUE.name, wire).settled, 'reject');
    assert.equal(calls, 0);
    assert.equal(await receiver.rejected('malformed'), 1);
  });

  it('requeues the delivery when the handler throws', async () => {
    const receiver = node('ki-1', 'ki');
    await receiver.bus.subscribe(QUEUE, 4, MESSAGE_TYPES, () => { throw new Error('handler broke'); });
    const wire = codecFor('principal-1', 'principal').seal('task.cancel', cancel());
    const delivery = receiver.transport.deliver(QUEUE.name, wire);
    assert.equal(await delivery.whenSettled(), 'requeue');
    assert.equal(await receiver.rejected('decrypt'), 0);
  });

  it('requeues the delivery when an async handler rejects', async () => {
    const receiver = node('ki-1', 'ki');
    await receiver.bus.subscribe(QUEUE, 4, MESSAGE_TYPES, async () => { throw new Error('async handler broke'); });
    const wire = codecFor('principal-1', 'principal').seal('task.cancel', cancel());
    const delivery = receiver.transport.deliver(QUEUE.name, wire);
    assert.equal(await delivery.whenSettled(), 'requeue');
  });

  it('exposes its transport and subscribes with the requested prefetch', async () => {
    const { bus, transport } = node();
    assert.equal(bus.transport, transport);
    const handle = await bus.subscribe(QUEUE, 7, MESSAGE_TYPES, () => undefined);
    assert.equal(transport.prefetchOf(QUEUE.name), 7);
    await handle.cancel();
    assert.throws(() => transport.deliver(QUEUE.name, codecFor('principal-1', 'principal').seal('task.cancel', cancel())), /nobody consumes/);
  });
});
