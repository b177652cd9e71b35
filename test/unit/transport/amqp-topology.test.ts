import { strict as assert } from 'node:assert';
import type { Channel, ChannelModel } from 'amqplib';
import { topologyNames } from '../../../src/protocol/names';
import { AmqpTopology, DEFAULT_DEAD_LETTER_BOUNDS, type DeadLetterBounds } from '../../../src/transport/amqp-topology';

type Call = [method: string, ...args: unknown[]];

/** A channel that records what it is asked to declare; `refuse` makes assertQueue of a queue fail with that error. */
function fakeChannel(calls: Call[], refuse: Map<string, unknown>): Channel {
  const ch = {
    on: () => ch,
    assertExchange: async (...a: unknown[]) => { calls.push(['assertExchange', ...a]); },
    assertQueue: async (name: string, opts: unknown) => {
      calls.push(['assertQueue', name, opts]);
      if (refuse.has(name)) throw refuse.get(name);
    },
    checkQueue: async (...a: unknown[]) => { calls.push(['checkQueue', ...a]); },
    bindQueue: async (...a: unknown[]) => { calls.push(['bindQueue', ...a]); },
    close: async () => { calls.push(['close']); },
  };
  return ch as unknown as Channel;
}

const names = topologyNames('unit');
const bounds: DeadLetterBounds = { maxLength: 5, maxBytes: 1024, ttlMs: 60_000 };

describe('AMQP topology', () => {
  let calls: Call[];
  let refuse: Map<string, unknown>;
  let warnings: string[];
  let ch: Channel;
  let model: ChannelModel;
  beforeEach(() => {
    calls = [];
    refuse = new Map();
    warnings = [];
    ch = fakeChannel(calls, refuse);
    model = { createChannel: async () => fakeChannel(calls, refuse) } as unknown as ChannelModel;
  });
  const topology = (deadLetter = bounds, quorumGroupSize = 0) => new AmqpTopology({ names, deadLetter, quorumGroupSize, onWarning: (m) => warnings.push(m) });
  const declared = (queue: string) => calls.find((c) => c[0] === 'assertQueue' && c[1] === queue)?.[2] as { durable: boolean; exclusive?: boolean; arguments: Record<string, unknown> } | undefined;

  it('declares both exchanges, the bounded dead-letter queues with their bindings, and the pending bands', async () => {
    await topology().declareBase(model, ch);
    assert.ok(calls.some((c) => c[0] === 'assertExchange' && c[1] === names.control && c[2] === 'topic'));
    assert.ok(calls.some((c) => c[0] === 'assertExchange' && c[1] === names.deadLetterExchange && c[2] === 'topic'));
    for (const q of [names.deadLetterQueue, names.deadPending]) {
      const args = declared(q)?.arguments ?? {};
      const want = { 'x-queue-type': 'quorum', 'x-max-length': 5, 'x-max-length-bytes': 1024, 'x-message-ttl': 60_000, 'x-overflow': 'drop-head' };
      for (const [key, value] of Object.entries(want)) assert.equal(args[key], value, `${q} ${key}`);
    }
    assert.equal(declared(names.deadPending)?.arguments['x-dead-letter-exchange'], names.deadLetterExchange);
    assert.equal('x-dead-letter-exchange' in (declared(names.deadLetterQueue)?.arguments ?? {}), false, 'the dead-letter queue must not dead-letter into itself');
    assert.ok(calls.some((c) => c[0] === 'bindQueue' && c[1] === names.deadLetterQueue && c[3] === '#'));
    assert.ok(calls.some((c) => c[0] === 'bindQueue' && c[1] === names.deadPending && c[3] === names.deadPendingPattern));
    for (const band of names.pendingBands) assert.equal(declared(band)?.arguments['x-queue-type'], 'quorum');
  });

  it('still declares the rest, with a warning naming the queue and the policy that bounds it, when a dead-letter queue refuses its bounds (406)', async () => {
    refuse.set(names.deadLetterQueue, Object.assign(new Error(`Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'x-max-length'"`), { code: 406 }));
    await topology(DEFAULT_DEAD_LETTER_BOUNDS).declareBase(model, ch);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`dead-letter queue ${names.deadLetterQueue.replace(/\./g, '\\.')} exists with other arguments than this node declares \\(PRECONDITION_FAILED - inequivalent arg 'x-max-length'\\)`));
    assert.match(warnings[0]!, /rabbitmqctl set_policy/);
    assert.match(warnings[0]!, new RegExp(`"max-length":${DEFAULT_DEAD_LETTER_BOUNDS.maxLength}`));
    for (const band of names.pendingBands) assert.ok(declared(band));
  });

  it('fails the declaration on any other error', async () => {
    refuse.set(names.deadPending, Object.assign(new Error('access refused'), { code: 403 }));
    await assert.rejects(topology().declareBase(model, ch), /access refused/);
    assert.deepEqual(warnings, []);
  });

  it('declares each kind of queue with its arguments, dead-lettering into the platform exchange, and binds it', async () => {
    const t = topology();
    const dlx = names.deadLetterExchange;
    await t.assertQueue(model, ch, { name: 'q.quorum', kind: 'quorum', bindings: [{ exchange: names.control, pattern: 'a.*' }] });
    await t.assertQueue(model, ch, { name: 'q.single', kind: 'single-active' });
    await t.assertQueue(model, ch, { name: 'q.durable', kind: 'durable' });
    await t.assertQueue(model, ch, { name: 'q.transient', kind: 'transient' });
    await t.assertQueue(model, ch, { name: 'q.base', kind: 'base' });
    assert.deepEqual(declared('q.quorum'), { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': dlx } });
    assert.deepEqual(declared('q.single'), { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-single-active-consumer': true, 'x-dead-letter-exchange': dlx } });
    assert.deepEqual(declared('q.durable'), { durable: true, arguments: { 'x-queue-type': 'classic', 'x-dead-letter-exchange': dlx } });
    assert.deepEqual(declared('q.transient'), { durable: false, exclusive: true, autoDelete: true, arguments: { 'x-dead-letter-exchange': dlx } });
    assert.equal(declared('q.base'), undefined, 'a base queue is only checked, never redeclared');
    assert.ok(calls.some((c) => c[0] === 'checkQueue' && c[1] === 'q.base'));
    assert.ok(calls.some((c) => c[0] === 'bindQueue' && c[1] === 'q.quorum' && c[2] === names.control && c[3] === 'a.*'));
  });

  it('gives every quorum queue the configured group size, and leaves it to the broker when none is set', async () => {
    await topology(bounds, 3).declareBase(model, ch);
    await topology(bounds, 3).assertQueue(model, ch, { name: 'q.single', kind: 'single-active' });
    for (const q of [names.deadLetterQueue, names.deadPending, ...names.pendingBands, 'q.single']) assert.equal(declared(q)?.arguments['x-quorum-initial-group-size'], 3, q);
    calls.length = 0;
    await topology().declareBase(model, ch);
    for (const q of [names.deadLetterQueue, ...names.pendingBands]) assert.equal('x-quorum-initial-group-size' in (declared(q)?.arguments ?? {}), false, q);
  });

  it('uses a quorum queue that exists with other arguments as it is, warning once, instead of failing every connect', async () => {
    const band = names.pendingBands[0]!;
    refuse.set(band, Object.assign(new Error(`Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'x-quorum-initial-group-size' for queue '${band}'"`), { code: 406 }));
    const t = topology(bounds, 5);
    await t.declareBase(model, ch);
    await t.declareBase(model, ch);
    await t.assertQueue(model, ch, { name: band, kind: 'quorum', bindings: [{ exchange: names.control, pattern: 'b.*' }] });
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, new RegExp(`quorum queue ${band.replace(/\./g, '\\.')} exists with other arguments .*x-quorum-initial-group-size.*rabbitmq-queues grow/shrink`));
    assert.ok(calls.some((c) => c[0] === 'bindQueue' && c[1] === band && c[3] === 'b.*'), 'its bindings are still declared');
    for (const other of names.pendingBands.slice(1)) assert.ok(declared(other));
  });
});
