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
  /**
   * Replicas of each quorum queue (`x-quorum-initial-group-size`), resolved; 0 leaves the number to
   * the broker (its `quorum_cluster_size`, 3 by default).
   */
  quorumGroupSize: number;
  /** Told of a problem worked around (a queue declared with other arguments, e.g. by an earlier version). */
  onWarning?: (message: string) => void;
}

/** The broker's own words from a refused declaration ("PRECONDITION_FAILED - inequivalent arg ..."). */
function refusalReason(err: unknown): string {
  const message = String((err as { message?: unknown })?.message ?? err);
  return /with message "(.*)"\s*$/.exec(message)?.[1] ?? message;
}

/**
 * Declares the platform's exchanges and queues on RabbitMQ: the base topology every node needs
 * (control and dead-letter exchanges, the bounded dead-letter queues, the pending bands) and each
 * consumer's queue with its kind's arguments and bindings. Every declaration is idempotent, so
 * the transport runs it again after each reconnect.
 */
export class AmqpTopology {
  /** Queues already warned about: the topology is declared again on every reconnect, the warning once. */
  readonly #warned = new Set<string>();

  constructor(private readonly o: AmqpTopologyOptions) {}

  /** Declares the base topology; `ch` carries the declarations, `model` opens throwaway channels for the risky ones. */
  async declareBase(model: ChannelModel, ch: Channel): Promise<void> {
    const n = this.o.names;
    await ch.assertExchange(n.control, 'topic', { durable: true });
    await ch.assertExchange(n.deadLetterExchange, 'topic', { durable: true });
    await this.#assertDeadLetterQueue(model, n.deadLetterQueue, this.#quorumArguments());
    await ch.bindQueue(n.deadLetterQueue, n.deadLetterExchange, '#');
    await this.#assertDeadLetterQueue(model, n.deadPending, { ...this.#quorumArguments(), 'x-dead-letter-exchange': n.deadLetterExchange });
    await ch.bindQueue(n.deadPending, n.deadLetterExchange, n.deadPendingPattern);
    for (const q of n.pendingBands) await this.assertQueue(model, ch, { name: q, kind: 'quorum' });
  }

  /**
   * Declares a queue as its kind wants it (a `base` queue is only checked) and binds it on `ch`. A
   * quorum queue is declared on a throwaway channel of `model`: see {@link #assertReplicated}.
   */
  async assertQueue(model: ChannelModel, ch: Channel, spec: QueueSpec): Promise<void> {
    const dlx = { 'x-dead-letter-exchange': this.o.names.deadLetterExchange };
    switch (spec.kind) {
      case 'quorum':
        await this.#assertReplicated(model, spec.name, { ...this.#quorumArguments(), ...dlx });
        break;
      case 'single-active':
        await this.#assertReplicated(model, spec.name, { ...this.#quorumArguments(), 'x-single-active-consumer': true, ...dlx });
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

  #quorumArguments(): Record<string, unknown> {
    const size = this.o.quorumGroupSize;
    return { 'x-queue-type': 'quorum', ...(size > 0 ? { 'x-quorum-initial-group-size': size } : {}) };
  }

  /**
   * Declares a quorum queue on a channel of its own. One that exists with other arguments (another
   * group size, or declared by an earlier version) refuses the declaration (406), which closes the
   * channel it came on: the queue is then used as it is, with one warning, instead of failing every
   * connect of the node.
   */
  async #assertReplicated(model: ChannelModel, queue: string, args: Record<string, unknown>): Promise<void> {
    await this.#assertTolerating(model, queue, args, (reason) => `quorum queue ${queue} exists with other arguments than this node declares (${reason}); `
      + 'it is used as it is. To change its replicas use rabbitmq-queues grow/shrink; to change anything else, delete it once empty');
  }

  /**
   * Declares a dead-letter queue with its bounds. One declared unbounded by an earlier version (or
   * with another group size) refuses them (406): it is then used as it is, with a warning that says
   * how to bound it without losing its letters.
   */
  async #assertDeadLetterQueue(model: ChannelModel, queue: string, base: Record<string, unknown>): Promise<void> {
    const b = this.o.deadLetter;
    const args = { ...base, 'x-max-length': b.maxLength, 'x-max-length-bytes': b.maxBytes, 'x-message-ttl': b.ttlMs, 'x-overflow': 'drop-head' };
    await this.#assertTolerating(model, queue, args, (reason) => `dead-letter queue ${queue} exists with other arguments than this node declares (${reason}); `
      + 'it is used as it is, and if it was declared without bounds it keeps every rejected message; bound it with '
      + `rabbitmqctl set_policy -p <vhost> --apply-to queues anki-dead-letters '^${queue.replace(/\./g, '\\.')}$' `
      + `'{"max-length":${b.maxLength},"max-length-bytes":${b.maxBytes},"message-ttl":${b.ttlMs},"overflow":"drop-head"}', or delete it once empty`);
  }

  /** Declares a durable queue on a throwaway channel; a 406 is told once through `warning`, any other error thrown. */
  async #assertTolerating(model: ChannelModel, queue: string, args: Record<string, unknown>, warning: (reason: string) => string): Promise<void> {
    const ch = await model.createChannel();
    ch.on('error', () => { /* a refused declaration closes this channel only */ });
    try {
      await ch.assertQueue(queue, { durable: true, arguments: args });
      await ch.close();
    } catch (err) {
      if ((err as { code?: unknown }).code !== PRECONDITION_FAILED) throw err;
      if (this.#warned.has(queue)) return;
      this.#warned.add(queue);
      this.o.onWarning?.(warning(refusalReason(err)));
    }
  }
}
