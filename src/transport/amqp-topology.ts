import type { Channel, ChannelModel } from 'amqplib';
import type { TopologyNames } from '../protocol';
import type { QueueSpec } from './types';

/** How much the dead-letter queues keep, in letters, bytes and age. */
export interface DeadLetterBounds {
  maxLength: number;
  maxBytes: number;
  ttlMs: number;
}

export const DEFAULT_DEAD_LETTER_BOUNDS: DeadLetterBounds = { maxLength: 100_000, maxBytes: 256 * 1024 * 1024, ttlMs: 7 * 24 * 3600 * 1000 };

/** AMQP reply code of a declaration whose arguments differ from the queue's. */
const PRECONDITION_FAILED = 406;

/** What {@link AmqpTopology} declares from. */
export interface AmqpTopologyOptions {
  names: TopologyNames;
  /** Bounds of the dead-letter queues, resolved (no default applied here). */
  deadLetter: DeadLetterBounds;
  /** Told of a problem worked around (a dead-letter queue declared unbounded by an earlier version). */
  onWarning?: (message: string) => void;
}

/**
 * Declares the platform's exchanges and queues on RabbitMQ: the base topology every node needs
 * (control and dead-letter exchanges, the bounded dead-letter queues, the pending bands) and each
 * consumer's queue with its kind's arguments and bindings. Every declaration is idempotent, so
 * the transport runs it again after each reconnect.
 */
export class AmqpTopology {
  constructor(private readonly o: AmqpTopologyOptions) {}

  /** Declares the base topology; `ch` carries the declarations, `model` opens throwaway channels for the risky ones. */
  async declareBase(model: ChannelModel, ch: Channel): Promise<void> {
    const n = this.o.names;
    await ch.assertExchange(n.control, 'topic', { durable: true });
    await ch.assertExchange(n.deadLetterExchange, 'topic', { durable: true });
    await this.#assertDeadLetterQueue(model, n.deadLetterQueue, { 'x-queue-type': 'quorum' });
    await ch.bindQueue(n.deadLetterQueue, n.deadLetterExchange, '#');
    await this.#assertDeadLetterQueue(model, n.deadPending, { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': n.deadLetterExchange });
    await ch.bindQueue(n.deadPending, n.deadLetterExchange, n.deadPendingPattern);
    for (const q of n.pendingBands) await this.assertQueue(ch, { name: q, kind: 'quorum' });
  }

  /** Declares a queue as its kind wants it (a `base` queue is only checked) and binds it. */
  async assertQueue(ch: Channel, spec: QueueSpec): Promise<void> {
    const dlx = { 'x-dead-letter-exchange': this.o.names.deadLetterExchange };
    switch (spec.kind) {
      case 'quorum':
        await ch.assertQueue(spec.name, { durable: true, arguments: { 'x-queue-type': 'quorum', ...dlx } });
        break;
      case 'single-active':
        await ch.assertQueue(spec.name, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-single-active-consumer': true, ...dlx } });
        break;
      case 'durable':
        await ch.assertQueue(spec.name, { durable: true, arguments: { 'x-queue-type': 'classic', ...dlx } });
        break;
      case 'transient':
        await ch.assertQueue(spec.name, { durable: false, exclusive: true, autoDelete: true, arguments: { ...dlx } });
        break;
      case 'base':
        await ch.checkQueue(spec.name);
        break;
    }
    for (const b of spec.bindings ?? []) await ch.bindQueue(spec.name, b.exchange, b.pattern);
  }

  /**
   * Declares a dead-letter queue with its bounds, on a channel of its own: a queue declared
   * unbounded by an earlier version refuses the new arguments (406), which closes the channel.
   * It is then used as it is, with a warning that says how to bound it without losing its letters.
   */
  async #assertDeadLetterQueue(model: ChannelModel, queue: string, base: Record<string, unknown>): Promise<void> {
    const b = this.o.deadLetter;
    const ch = await model.createChannel();
    ch.on('error', () => { /* a refused declaration closes this channel only */ });
    try {
      await ch.assertQueue(queue, { durable: true, arguments: { ...base, 'x-max-length': b.maxLength, 'x-max-length-bytes': b.maxBytes, 'x-message-ttl': b.ttlMs, 'x-overflow': 'drop-head' } });
      await ch.close();
    } catch (err) {
      if ((err as { code?: unknown }).code !== PRECONDITION_FAILED) throw err;
      this.o.onWarning?.(`dead-letter queue ${queue} was declared without bounds and keeps every rejected message; bound it with `
        + `rabbitmqctl set_policy -p <vhost> --apply-to queues anki-dead-letters '^${queue.replace(/\./g, '\\.')}$' `
        + `'{"max-length":${b.maxLength},"max-length-bytes":${b.maxBytes},"message-ttl":${b.ttlMs},"overflow":"drop-head"}', or delete it once empty`);
    }
  }
}
