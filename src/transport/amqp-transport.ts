import amqplib, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type RecoveringChannelModel } from 'amqplib';
import { PublishFailedError } from '../errors';
import { type TopologyNames, type WireMessage } from '../protocol';
import { amqpConnectArgs, type AmqpConnectSettings } from './amqp-connection';
import { AmqpTopology, DEFAULT_DEAD_LETTER_BOUNDS, type DeadLetterBounds } from './amqp-topology';
import { deathOf, fromConsumeMessage, toPublishProperties } from './amqp-wire';
import type { ConsumerHandle, Delivery, PublishOptions, QueueSpec, Target, Transport, TransportStatus } from './types';

/** How {@link AmqpTransport} connects (see {@link AmqpConnectSettings}), declares and publishes. */
export interface AmqpTransportOptions extends AmqpConnectSettings {
  names: TopologyNames;
  publishTimeoutMs: number;
  /**
   * Bounds of the dead-letter queues: every rejected message of every queue lands there, so
   * unbounded they let a sender of failing work fill the broker's disk, which blocks every
   * publisher of the cluster. Beyond a bound the oldest letter is dropped.
   * @defaultValue {@link DEFAULT_DEAD_LETTER_BOUNDS}
   */
  deadLetter?: DeadLetterBounds;
  /**
   * Replicas of each quorum queue (`x-quorum-initial-group-size`); 0 leaves it to the broker.
   * @defaultValue 0
   */
  quorumGroupSize?: number;
  /** Told of a problem the transport works around (a queue declared by an earlier version). */
  onWarning?: (message: string) => void;
}

interface ConsumerRecord {
  spec: QueueSpec;
  prefetch: number;
  handler: (d: Delivery) => void;
  channel?: Channel;
  consumerTag?: string;
  /** The limit the live consumer subscribed with. */
  consumingWith?: number;
  /** The prefetch change being applied, if any. */
  applying?: Promise<void>;
  cancelled: boolean;
}

/**
 * RabbitMQ through amqplib with its opt-in recovery: after every (re)connect the setup step
 * re-declares the topology and re-subscribes every consumer on fresh channels. Deliveries remember
 * their channel, so a delivery tag from an old channel is never acked on a new one. Given several
 * brokers (the nodes of one cluster), each failed or lost connection moves on to the next.
 */
export class AmqpTransport implements Transport {
  readonly #topology: AmqpTopology;
  #model?: RecoveringChannelModel;
  #publisher?: ConfirmChannel;
  #consumers: ConsumerRecord[] = [];
  #listeners: ((s: TransportStatus) => void)[] = [];
  #connected = false;
  #everConnected = false;
  #stopping = false;
  #waiters: (() => void)[] = [];
  #starting?: Promise<void>;
  #stopped?: Promise<void>;

  constructor(private readonly o: AmqpTransportOptions) {
    this.#topology = new AmqpTopology({
      names: o.names, deadLetter: o.deadLetter ?? DEFAULT_DEAD_LETTER_BOUNDS, quorumGroupSize: o.quorumGroupSize ?? 0, ...(o.onWarning ? { onWarning: o.onWarning } : {}),
    });
  }

  get connected(): boolean {
    return this.#connected;
  }

  onStatus(listener: (status: TransportStatus) => void): void {
    this.#listeners.push(listener);
  }

  start(): Promise<void> {
    return (this.#starting ??= this.#start());
  }

  async #start(): Promise<void> {
    const { brokers, options } = amqpConnectArgs(this.o, (m) => this.#setup(m, brokers.target));
    // Resolves at once (waitForConnect: false): the listeners are in place before the first try.
    const model = await amqplib.connect(brokers, options);
    this.#model = model;
    // A failed try moves on to the next broker of the list, and so does a lost connection.
    model.on('connect-failed', () => brokers.advance());
    model.on('disconnect', (err: Error) => {
      const lost = brokers.target;
      brokers.advance();
      this.#connected = false;
      this.#publisher = undefined;
      for (const c of this.#consumers) {
        c.channel = undefined;
        c.consumerTag = undefined;
        c.consumingWith = undefined;
      }
      this.#emit({ type: 'disconnected', error: err, broker: lost });
    });
    model.on('reconnect-scheduled', (info: { attempt: number; delay: number; error?: Error }) => this.#emit({
      type: 'reconnecting', attempt: info.attempt, delayMs: info.delay, broker: brokers.target, ...(info.error ? { error: info.error } : {}),
    }));
    model.on('blocked', (reason: string) => this.#emit({ type: 'blocked', reason }));
    model.on('unblocked', () => this.#emit({ type: 'unblocked' }));
    model.on('error', () => { /* surfaced as 'disconnect'; an unhandled 'error' event would crash the process */ });
    await model.waitForConnect();
  }

  /** Runs after each successful connect, before any publish or consume may use it. */
  async #setup(model: ChannelModel, broker: string): Promise<void> {
    const publisher = await model.createConfirmChannel();
    publisher.on('error', () => { /* the connection-level recovery takes over */ });
    await this.#topology.declareBase(model, publisher);
    for (const c of this.#consumers) if (!c.cancelled) await this.#subscribe(model, c);
    this.#publisher = publisher;
    this.#connected = true;
    const reconnect = this.#everConnected;
    this.#everConnected = true;
    this.#emit({ type: 'connected', reconnect, broker });
    for (const w of this.#waiters.splice(0)) w();
  }

  async #subscribe(model: ChannelModel, c: ConsumerRecord): Promise<void> {
    const ch = await model.createChannel();
    ch.on('error', () => { /* recovery re-subscribes */ });
    await this.#topology.assertQueue(model, ch, c.spec);
    c.channel = ch;
    if (c.prefetch <= 0) return; // paused: declared, not consuming
    await this.#consumeOn(ch, c, c.prefetch);
  }

  /** Consumes `c`'s queue on `ch` with `limit` unacked deliveries (basic.qos first: it binds as the consumer subscribes). */
  async #consumeOn(ch: Channel, c: ConsumerRecord, limit: number): Promise<void> {
    await ch.prefetch(limit);
    const { consumerTag } = await ch.consume(c.spec.name, (msg) => { if (msg) c.handler(this.#delivery(ch, msg)); }, { noAck: false });
    // A channel lost meanwhile leaves the record to recovery.
    if (c.channel === ch) {
      c.consumerTag = consumerTag;
      c.consumingWith = limit;
    }
  }

  /**
   * basic.qos binds a consumer's limit when it subscribes, and a later one changes nothing for it:
   * a new limit means a new subscription. Unacked deliveries stay with the channel across the swap
   * and are acked as usual. A closed channel is left to recovery, which subscribes with the latest.
   */
  async #applyPrefetch(c: ConsumerRecord): Promise<void> {
    const ch = c.channel;
    if (!ch || c.cancelled) return;
    const want = c.prefetch;
    try {
      if (c.consumerTag && c.consumingWith !== want) {
        const tag = c.consumerTag;
        c.consumerTag = undefined;
        c.consumingWith = undefined;
        await ch.cancel(tag);
      }
      if (want > 0 && !c.consumerTag && c.channel === ch) await this.#consumeOn(ch, c, want);
    } catch { /* the channel closed; recovery subscribes with the latest limit */ }
  }

  #delivery(ch: Channel, msg: ConsumeMessage): Delivery {
    let settled = false;
    const live = () => !settled && !this.#stopping && this.#consumers.some((c) => c.channel === ch);
    const message = fromConsumeMessage(msg);
    const death = deathOf(msg);
    const settle = (fn: () => void) => {
      if (!live()) { settled = true; return; }
      settled = true;
      try { fn(); } catch { /* channel closed between check and call: the broker redelivers */ }
    };
    return {
      message,
      redelivered: msg.fields.redelivered,
      ...(death ? { death } : {}),
      ack: () => settle(() => ch.ack(msg)),
      reject: () => settle(() => ch.nack(msg, false, false)),
      requeue: () => settle(() => ch.nack(msg, false, true)),
    };
  }

  #waitConnected(timeoutMs: number): Promise<void> {
    if (this.#publisher) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        reject(new PublishFailedError(`broker not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => { clearTimeout(timer); resolve(); };
      this.#waiters.push(done);
    });
  }

  async publish(target: Target, m: WireMessage, options: PublishOptions = {}): Promise<void> {
    if (this.#stopping) throw new PublishFailedError('transport is stopping');
    await this.#waitConnected(this.o.publishTimeoutMs);
    const ch = this.#publisher!;
    const props = toPublishProperties(m, options);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new PublishFailedError(`no confirm within ${this.o.publishTimeoutMs} ms`)), this.o.publishTimeoutMs);
      const cb = (err: unknown) => {
        clearTimeout(timer);
        if (err) reject(new PublishFailedError(`broker did not confirm: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
        else resolve();
      };
      try {
        if ('queue' in target) ch.sendToQueue(target.queue, m.body, props, cb);
        else ch.publish(target.exchange, target.routingKey, m.body, props, cb);
      } catch (err) {
        cb(err ?? new Error('publish failed'));
      }
    });
  }

  async consume(spec: QueueSpec, prefetch: number, handler: (d: Delivery) => void): Promise<ConsumerHandle> {
    const record: ConsumerRecord = { spec, prefetch, handler, cancelled: false };
    this.#consumers.push(record);
    if (this.#connected && this.#model) {
      await this.#waitConnected(this.o.publishTimeoutMs);
      // Subscribing uses the model's createChannel, which waits for the connection internally.
      await this.#subscribe(this.#modelFacade(), record);
    }
    return {
      setPrefetch: (count: number) => {
        record.prefetch = count;
        // Serialized, and each step applies the latest limit asked for: two swaps in flight at
        // once could leave two consumers on the queue.
        record.applying = (record.applying ?? Promise.resolve()).then(() => this.#applyPrefetch(record));
        return record.applying;
      },
      cancel: async () => {
        record.cancelled = true;
        this.#consumers = this.#consumers.filter((c) => c !== record);
        if (record.channel && record.consumerTag) await record.channel.cancel(record.consumerTag).catch(() => undefined);
        await record.channel?.close().catch(() => undefined);
      },
    };
  }

  /** The recovering model creates channels on the current connection. */
  #modelFacade(): ChannelModel {
    return this.#model as unknown as ChannelModel;
  }

  async queueDepth(queue: string): Promise<number> {
    if (!this.#model || !this.#connected) return 0;
    const ch = await this.#model.createChannel();
    ch.on('error', () => undefined);
    try {
      const q = await ch.checkQueue(queue);
      return q.messageCount;
    } catch {
      return 0;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  async deleteQueue(queue: string): Promise<void> {
    if (!this.#model) return;
    const ch = await this.#model.createChannel();
    ch.on('error', () => undefined);
    await ch.deleteQueue(queue).catch(() => undefined);
    await ch.close().catch(() => undefined);
  }

  stop(): Promise<void> {
    return (this.#stopped ??= this.#stop());
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    for (const c of this.#consumers) if (c.channel && c.consumerTag) await c.channel.cancel(c.consumerTag).catch(() => undefined);
    // Let in-flight confirms arrive before closing.
    await this.#publisher?.waitForConfirms().catch(() => undefined);
    await this.#model?.close().catch(() => undefined);
    this.#connected = false;
  }

  #emit(s: TransportStatus): void {
    for (const l of this.#listeners) {
      try { l(s); } catch { /* a listener must not break the transport */ }
    }
  }
}
