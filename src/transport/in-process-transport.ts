import { PublishFailedError } from '../errors';
import { type TopologyNames, type WireMessage } from '../protocol';
import { InProcessQueue, type QueueHost, type QueuedMessage } from './in-process-queue';
import { TopicExchanges } from './topic-exchanges';
import type { ConsumerHandle, Delivery, PublishOptions, QueueSpec, Target, Transport, TransportStatus } from './types';

/** How {@link InProcessTransport} is set up; only `names` is required. */
export interface InProcessTransportOptions {
  /** The topology names; the base exchanges, the dead-letter queue and the pending bands are declared from them. */
  names: TopologyNames;
  /**
   * Ready messages one queue may hold; a publish that would exceed it fails with
   * {@link PublishFailedError}, as a broker with `reject-publish` overflow nacks it.
   * @defaultValue 1_000_000
   */
  maxQueueLength?: number;
  /**
   * Messages the dead-letter queue keeps; beyond it the oldest is dropped. Nothing consumes it in
   * standalone, so without a small bound every rejected message would stay in memory.
   * @defaultValue 10_000
   */
  maxDeadLetters?: number;
  /**
   * Deliveries handed out per queue before yielding to the event loop, so a deep queue cannot
   * starve timers and sockets of the same process.
   * @defaultValue 1000
   */
  deliveriesPerTurn?: number;
}

interface ResolvedOptions {
  names: TopologyNames;
  maxQueueLength: number;
  maxDeadLetters: number;
  deliveriesPerTurn: number;
}

function resolveOptions(o: InProcessTransportOptions): ResolvedOptions {
  return { names: o.names, maxQueueLength: o.maxQueueLength ?? 1_000_000, maxDeadLetters: o.maxDeadLetters ?? 10_000, deliveriesPerTurn: o.deliveriesPerTurn ?? 1000 };
}

/**
 * A message broker inside one process, for `standalone` without `AMQP_URL` and for unit tests.
 * It keeps the semantics the nodes rely on from RabbitMQ: named queues declared by consume, topic
 * exchanges, confirms (a publish resolves once the message is enqueued), per-consumer prefetch,
 * ack / reject to the dead-letter queue / requeue with `redelivered`, round-robin between
 * consumers, single-active-consumer queues, transient queues that vanish with their consumer,
 * per-message expiry. Deliveries are always made from a later event-loop turn, never from inside
 * `publish` or a settle call, so a handler never runs re-entrantly.
 *
 * Unlike RabbitMQ it keeps nothing across a process restart, and expired messages are dropped
 * rather than dead-lettered (the election ticks would otherwise fill the dead-letter queue).
 *
 * The queues ({@link InProcessQueue}) deliver and settle; the exchanges ({@link TopicExchanges})
 * route; this class declares, publishes and runs the lifecycle.
 */
export class InProcessTransport implements Transport {
  readonly #o: ResolvedOptions;
  readonly #queues = new Map<string, InProcessQueue>();
  readonly #exchanges = new TopicExchanges();
  readonly #listeners: ((s: TransportStatus) => void)[] = [];
  readonly #host: QueueHost;
  #started = false;
  #stopped = false;
  #starting?: Promise<void>;
  #stopping?: Promise<void>;

  constructor(options: InProcessTransportOptions) {
    this.#o = resolveOptions(options);
    this.#host = {
      isDelivering: () => this.#started && !this.#stopped,
      isStopped: () => this.#stopped,
      deliveriesPerTurn: this.#o.deliveriesPerTurn,
      deadLetter: (m, from) => this.#deadLetter(m, from),
    };
    this.#declareBase();
  }

  get connected(): boolean {
    return this.#started && !this.#stopped;
  }

  onStatus(listener: (status: TransportStatus) => void): void {
    this.#listeners.push(listener);
  }

  start(): Promise<void> {
    return (this.#starting ??= this.#start());
  }

  async #start(): Promise<void> {
    if (this.#stopped) throw new Error('in-process transport was stopped; it cannot start again');
    this.#started = true;
    this.#emit({ type: 'connected', reconnect: false });
    for (const q of this.#queues.values()) q.schedule();
  }

  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<void> {
    this.#stopped = true;
    for (const q of [...this.#queues.values()]) {
      q.detachAll('requeue');
      // Exclusive queues belong to the connection that is closing now.
      if (q.kind === 'transient') this.#removeQueue(q);
    }
  }

  #declareBase(): void {
    const n = this.#o.names;
    this.#exchanges.declare(n.control);
    this.#exchanges.declare(n.deadLetterExchange);
    // Bounded like the broker's dead-letter queues, whatever reaches them: rejected or published.
    this.#declareQueue({ name: n.deadLetterQueue, kind: 'quorum', bindings: [{ exchange: n.deadLetterExchange, pattern: '#' }] }, this.#o.maxDeadLetters);
    this.#declareQueue({ name: n.deadPending, kind: 'quorum', bindings: [{ exchange: n.deadLetterExchange, pattern: n.deadPendingPattern }] }, this.#o.maxDeadLetters);
    for (const q of n.pendingBands) this.#declareQueue({ name: q, kind: 'quorum' });
  }

  /** Declares a queue if it does not exist yet and adds its bindings (each binding once). */
  #declareQueue(spec: QueueSpec, dropHeadAt?: number): InProcessQueue {
    let q = this.#queues.get(spec.name);
    if (!q) {
      q = new InProcessQueue(spec.name, spec.kind, this.#host, dropHeadAt);
      this.#queues.set(spec.name, q);
    }
    for (const b of spec.bindings ?? []) this.#exchanges.bind(b.exchange, spec.name, b.pattern);
    return q;
  }

  #removeQueue(q: InProcessQueue): void {
    q.markDeleted();
    this.#queues.delete(q.name);
    this.#exchanges.unbindQueue(q.name);
  }

  async publish(target: Target, message: WireMessage, options: PublishOptions = {}): Promise<void> {
    if (this.#stopped) throw new PublishFailedError('transport is stopped');
    let queues: InProcessQueue[];
    let routingKey: string;
    if ('queue' in target) {
      routingKey = target.queue;
      const q = this.#queues.get(target.queue);
      // The default exchange drops a message for a queue nobody declared, and still confirms it.
      queues = q ? [q] : [];
    } else {
      routingKey = target.routingKey;
      const routed = this.#route(target.exchange, routingKey);
      if (!routed) throw new PublishFailedError(`no exchange ${target.exchange}`);
      queues = routed;
    }
    const full = queues.find((q) => q.dropHeadAt === undefined && q.length >= this.#o.maxQueueLength);
    if (full) throw new PublishFailedError(`queue ${full.name} holds ${this.#o.maxQueueLength} messages; publish refused`);
    const expiresAtMs = options.expirationMs && options.expirationMs > 0 ? Date.now() + options.expirationMs : undefined;
    for (const q of queues) {
      // Each queue gets its own copy, as each AMQP delivery decodes its own properties.
      const m = { wire: { ...message }, routingKey, expiresAtMs, redelivered: false };
      if (q.dropHeadAt === undefined) q.enqueue(m);
      else q.enqueueDroppingHead(m, q.dropHeadAt);
    }
  }

  /** The queues `exchange` routes `routingKey` to; undefined when the exchange was never declared. */
  #route(exchange: string, routingKey: string): InProcessQueue[] | undefined {
    return this.#exchanges.route(exchange, routingKey)?.flatMap((name) => this.#queues.get(name) ?? []);
  }

  async consume(spec: QueueSpec, prefetch: number, handler: (delivery: Delivery) => void): Promise<ConsumerHandle> {
    if (this.#stopped) throw new Error('in-process transport is stopped');
    const queue = this.#declareQueue(spec);
    const c = queue.addConsumer(handler, prefetch);
    return {
      setPrefetch: async (count: number) => queue.setPrefetch(c, count),
      cancel: async () => {
        if (c.cancelled) return;
        queue.detach(c, 'requeue');
        // An exclusive, auto-delete queue goes away with its consumer.
        if (queue.kind === 'transient' && queue.consumerCount === 0 && !queue.deleted) this.#removeQueue(queue);
      },
    };
  }

  async queueDepth(queue: string): Promise<number> {
    return this.#queues.get(queue)?.readyCount() ?? 0;
  }

  async deleteQueue(queue: string): Promise<void> {
    const q = this.#queues.get(queue);
    if (!q) return;
    // The broker cancels the consumers of a deleted queue; what they held is gone with it.
    q.detachAll('drop');
    this.#removeQueue(q);
  }

  /** Routes a rejected message through the dead-letter exchange with its original routing key. */
  #deadLetter(m: QueuedMessage, from: string): void {
    const death = { reason: 'rejected', queue: from, count: m.death?.queue === from ? m.death.count + 1 : 1 };
    for (const q of this.#route(this.#o.names.deadLetterExchange, m.routingKey) ?? []) {
      // Dead letters must never fail a settle: a full queue drops its oldest (drop-head).
      q.enqueueDroppingHead({ wire: m.wire, routingKey: m.routingKey, expiresAtMs: undefined, redelivered: false, death }, q.dropHeadAt ?? this.#o.maxQueueLength);
    }
  }

  #emit(s: TransportStatus): void {
    for (const l of this.#listeners) {
      try { l(s); } catch { /* a listener must not break the transport */ }
    }
  }
}
