import { PublishFailedError } from '../errors';
import type { TopologyNames } from '../protocol';
import type { WireMessage } from '../security';
import type { ConsumerHandle, Delivery, PublishOptions, QueueKind, QueueSpec, Target, Transport, TransportStatus } from './types';

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

/** A message sitting in a queue. */
interface QueuedMessage {
  readonly wire: WireMessage;
  /** The routing key it was published with (the queue name for the default exchange); kept for dead-lettering. */
  readonly routingKey: string;
  readonly expiresAtMs: number | undefined;
  redelivered: boolean;
}

/** One delivery handed to a consumer and not settled yet. */
interface Unacked {
  readonly message: QueuedMessage;
  settled: boolean;
}

interface ConsumerState {
  readonly queue: QueueState;
  readonly handler: (d: Delivery) => void;
  prefetch: number;
  readonly unacked: Set<Unacked>;
  cancelled: boolean;
}

interface QueueState {
  readonly name: string;
  readonly kind: QueueKind;
  readonly messages: Deque<QueuedMessage>;
  /** Consumers taking deliveries (prefetch above 0), in the order they (re)subscribed. */
  readonly active: ConsumerState[];
  /** Every consumer of this queue, paused ones included. */
  readonly consumers: Set<ConsumerState>;
  /** Next consumer to try, for round-robin. */
  next: number;
  pumpScheduled: boolean;
  deleted: boolean;
}

interface Binding {
  readonly queue: string;
  readonly pattern: string;
  readonly words: readonly string[];
}

/**
 * Whether a topic pattern matches a routing key, as a RabbitMQ topic exchange decides it:
 * dot-separated words, `*` matches exactly one word and `#` zero or more.
 * Exported for the unit tests.
 * @internal
 */
export function topicMatches(pattern: string, routingKey: string): boolean {
  return matchWords(pattern.split('.'), 0, routingKey.split('.'), 0);
}

function matchWords(p: readonly string[], i: number, k: readonly string[], j: number): boolean {
  for (;;) {
    if (i === p.length) return j === k.length;
    const w = p[i];
    if (w === '#') {
      // Collapse runs of '#': each adds nothing but backtracking.
      while (p[i + 1] === '#') i++;
      if (i === p.length - 1) return true;
      for (let skip = j; skip <= k.length; skip++) if (matchWords(p, i + 1, k, skip)) return true;
      return false;
    }
    if (j === k.length) return false;
    if (w !== '*' && w !== k[j]) return false;
    i++;
    j++;
  }
}

/** A double-ended queue on a ring buffer: O(1) at both ends (Array#shift copies on large arrays). */
class Deque<T> {
  #buf: (T | undefined)[] = new Array<T | undefined>(16);
  #head = 0;
  #size = 0;

  get length(): number {
    return this.#size;
  }

  push(value: T): void {
    this.#growIfFull();
    this.#buf[(this.#head + this.#size) & (this.#buf.length - 1)] = value;
    this.#size++;
  }

  unshift(value: T): void {
    this.#growIfFull();
    this.#head = (this.#head - 1 + this.#buf.length) & (this.#buf.length - 1);
    this.#buf[this.#head] = value;
    this.#size++;
  }

  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#buf[this.#head];
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const value = this.#buf[this.#head];
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#buf.length - 1);
    this.#size--;
    return value;
  }

  clear(): void {
    this.#buf = new Array<T | undefined>(16);
    this.#head = 0;
    this.#size = 0;
  }

  #growIfFull(): void {
    if (this.#size < this.#buf.length) return;
    const next = new Array<T | undefined>(this.#buf.length * 2);
    for (let n = 0; n < this.#size; n++) next[n] = this.#buf[(this.#head + n) & (this.#buf.length - 1)];
    this.#buf = next;
    this.#head = 0;
  }
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
 */
export class InProcessTransport implements Transport {
  readonly #o: ResolvedOptions;
  readonly #queues = new Map<string, QueueState>();
  /** Exchanges by name with their bindings. Every exchange here is a topic exchange. */
  readonly #exchanges = new Map<string, Binding[]>();
  readonly #listeners: ((s: TransportStatus) => void)[] = [];
  #started = false;
  #stopped = false;
  #starting?: Promise<void>;
  #stopping?: Promise<void>;

  constructor(options: InProcessTransportOptions) {
    this.#o = resolveOptions(options);
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
    for (const q of this.#queues.values()) this.#schedule(q);
  }

  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<void> {
    this.#stopped = true;
    for (const q of [...this.#queues.values()]) {
      for (const c of [...q.consumers]) this.#detach(c, 'requeue');
      // Exclusive queues belong to the connection that is closing now.
      if (q.kind === 'transient') this.#removeQueue(q);
    }
  }

  #declareBase(): void {
    const n = this.#o.names;
    this.#declareExchange(n.control);
    this.#declareExchange(n.deadLetterExchange);
    this.#declareQueue({ name: n.deadLetterQueue, kind: 'quorum', bindings: [{ exchange: n.deadLetterExchange, pattern: '#' }] });
    this.#declareQueue({ name: n.deadPending, kind: 'quorum', bindings: [{ exchange: n.deadLetterExchange, pattern: n.deadPendingPattern }] });
    for (const q of n.pendingBands) this.#declareQueue({ name: q, kind: 'quorum' });
  }

  #declareExchange(name: string): Binding[] {
    let bindings = this.#exchanges.get(name);
    if (!bindings) this.#exchanges.set(name, (bindings = []));
    return bindings;
  }

  /** Declares a queue if it does not exist yet and adds its bindings (each binding once). */
  #declareQueue(spec: QueueSpec): QueueState {
    let q = this.#queues.get(spec.name);
    if (!q) {
      q = { name: spec.name, kind: spec.kind, messages: new Deque(), active: [], consumers: new Set(), next: 0, pumpScheduled: false, deleted: false };
      this.#queues.set(spec.name, q);
    }
    for (const b of spec.bindings ?? []) {
      const bindings = this.#declareExchange(b.exchange);
      if (!bindings.some((x) => x.queue === spec.name && x.pattern === b.pattern)) bindings.push({ queue: spec.name, pattern: b.pattern, words: b.pattern.split('.') });
    }
    return q;
  }

  #removeQueue(q: QueueState): void {
    q.deleted = true;
    q.messages.clear();
    this.#queues.delete(q.name);
    for (const [name, bindings] of this.#exchanges) this.#exchanges.set(name, bindings.filter((b) => b.queue !== q.name));
  }

  async publish(target: Target, message: WireMessage, options: PublishOptions = {}): Promise<void> {
    if (this.#stopped) throw new PublishFailedError('transport is stopped');
    let queues: QueueState[];
    let routingKey: string;
    if ('queue' in target) {
      routingKey = target.queue;
      const q = this.#queues.get(target.queue);
      // The default exchange drops a message for a queue nobody declared, and still confirms it.
      queues = q ? [q] : [];
    } else {
      routingKey = target.routingKey;
      const bindings = this.#exchanges.get(target.exchange);
      if (!bindings) throw new PublishFailedError(`no exchange ${target.exchange}`);
      queues = this.#route(bindings, routingKey);
    }
    const full = queues.find((q) => q.messages.length >= this.#o.maxQueueLength);
    if (full) throw new PublishFailedError(`queue ${full.name} holds ${this.#o.maxQueueLength} messages; publish refused`);
    const expiresAtMs = options.expirationMs && options.expirationMs > 0 ? Date.now() + options.expirationMs : undefined;
    for (const q of queues) {
      // Each queue gets its own copy, as each AMQP delivery decodes its own properties.
      q.messages.push({ wire: { ...message }, routingKey, expiresAtMs, redelivered: false });
      this.#schedule(q);
    }
  }

  /** Queues bound by a matching pattern, each once even when several of its patterns match. */
  #route(bindings: readonly Binding[], routingKey: string): QueueState[] {
    const keyWords = routingKey.split('.');
    const out = new Set<QueueState>();
    for (const b of bindings) {
      const q = this.#queues.get(b.queue);
      if (q && !out.has(q) && matchWords(b.words, 0, keyWords, 0)) out.add(q);
    }
    return [...out];
  }

  async consume(spec: QueueSpec, prefetch: number, handler: (delivery: Delivery) => void): Promise<ConsumerHandle> {
    if (this.#stopped) throw new Error('in-process transport is stopped');
    const queue = this.#declareQueue(spec);
    const c: ConsumerState = { queue, handler, prefetch: Math.max(0, prefetch), unacked: new Set(), cancelled: false };
    queue.consumers.add(c);
    if (c.prefetch > 0) queue.active.push(c);
    this.#schedule(queue);
    return {
      setPrefetch: async (count: number) => {
        if (c.cancelled) return;
        const was = c.prefetch;
        c.prefetch = Math.max(0, count);
        // Pausing leaves the consumer list and resuming joins it at the end, as an AMQP
        // basic.cancel / basic.consume pair would; unacked deliveries stay settleable meanwhile.
        if (c.prefetch === 0 && was > 0) this.#deactivate(c);
        else if (c.prefetch > 0 && was === 0 && !c.queue.deleted) c.queue.active.push(c);
        this.#schedule(c.queue);
      },
      cancel: async () => {
        if (c.cancelled) return;
        this.#detach(c, 'requeue');
        // An exclusive, auto-delete queue goes away with its consumer.
        if (c.queue.kind === 'transient' && c.queue.consumers.size === 0 && !c.queue.deleted) this.#removeQueue(c.queue);
      },
    };
  }

  #deactivate(c: ConsumerState): void {
    const q = c.queue;
    const at = q.active.indexOf(c);
    if (at < 0) return;
    q.active.splice(at, 1);
    if (q.next > at) q.next--;
  }

  /**
   * Takes a consumer off its queue. Its unsettled deliveries go back to the head of the queue
   * (`requeue`, as when an AMQP channel closes) or are dropped with the queue (`drop`); either
   * way settling them later does nothing.
   */
  #detach(c: ConsumerState, unackedTo: 'requeue' | 'drop'): void {
    c.cancelled = true;
    this.#deactivate(c);
    c.queue.consumers.delete(c);
    const pending = [...c.unacked];
    c.unacked.clear();
    for (const u of pending) u.settled = true;
    if (unackedTo === 'requeue' && !c.queue.deleted) {
      // Back to the head in their original order.
      for (let n = pending.length - 1; n >= 0; n--) {
        const m = pending[n]!.message;
        m.redelivered = true;
        c.queue.messages.unshift(m);
      }
      this.#schedule(c.queue);
    }
  }

  async queueDepth(queue: string): Promise<number> {
    const q = this.#queues.get(queue);
    if (!q) return 0;
    this.#dropExpiredHead(q);
    return q.messages.length;
  }

  async deleteQueue(queue: string): Promise<void> {
    const q = this.#queues.get(queue);
    if (!q) return;
    // The broker cancels the consumers of a deleted queue; what they held is gone with it.
    for (const c of [...q.consumers]) this.#detach(c, 'drop');
    this.#removeQueue(q);
  }

  /** Arranges one delivery round for `q` on a later turn of the event loop. */
  #schedule(q: QueueState): void {
    if (q.pumpScheduled || !this.#started || this.#stopped || q.deleted) return;
    q.pumpScheduled = true;
    setImmediate(() => {
      q.pumpScheduled = false;
      this.#pump(q);
    });
  }

  #pump(q: QueueState): void {
    if (this.#stopped || q.deleted) return;
    for (let budget = this.#o.deliveriesPerTurn; budget > 0; budget--) {
      this.#dropExpiredHead(q);
      if (q.messages.length === 0) return;
      const c = this.#pickConsumer(q);
      if (!c) return;
      this.#deliver(c, q.messages.shift()!);
    }
    this.#schedule(q);
  }

  /** Expired messages are removed when they reach the head, as RabbitMQ does for per-message TTL. */
  #dropExpiredHead(q: QueueState): void {
    const now = Date.now();
    for (let m = q.messages.peek(); m?.expiresAtMs !== undefined && m.expiresAtMs <= now; m = q.messages.peek()) q.messages.shift();
  }

  /** The consumer for the next message: the first one only on a single-active queue, else round-robin among those with room. */
  #pickConsumer(q: QueueState): ConsumerState | undefined {
    if (q.active.length === 0) return undefined;
    if (q.kind === 'single-active') {
      const first = q.active[0]!;
      return first.unacked.size < first.prefetch ? first : undefined;
    }
    for (let n = 0; n < q.active.length; n++) {
      const at = (q.next + n) % q.active.length;
      const c = q.active[at]!;
      if (c.unacked.size < c.prefetch) {
        q.next = (at + 1) % q.active.length;
        return c;
      }
    }
    return undefined;
  }

  #deliver(c: ConsumerState, m: QueuedMessage): void {
    const u: Unacked = { message: m, settled: false };
    c.unacked.add(u);
    const settle = (then: () => void) => {
      if (u.settled || this.#stopped) { u.settled = true; return; }
      u.settled = true;
      c.unacked.delete(u);
      then();
      this.#schedule(c.queue);
    };
    const delivery: Delivery = {
      message: m.wire,
      redelivered: m.redelivered,
      ack: () => settle(() => undefined),
      reject: () => settle(() => this.#deadLetter(m)),
      requeue: () => settle(() => {
        if (c.queue.deleted) return;
        m.redelivered = true;
        c.queue.messages.unshift(m);
      }),
    };
    try {
      c.handler(delivery);
    } catch {
      // A handler that throws did not take the message: give it back, as a closing AMQP channel
      // would (a no-op if it settled before throwing).
      delivery.requeue();
    }
  }

  /** Routes a rejected message through the dead-letter exchange with its original routing key. */
  #deadLetter(m: QueuedMessage): void {
    const bindings = this.#exchanges.get(this.#o.names.deadLetterExchange) ?? [];
    for (const q of this.#route(bindings, m.routingKey)) {
      // Dead letters must never fail a settle: a full dead-letter queue drops its oldest (drop-head).
      const cap = q.name === this.#o.names.deadLetterQueue ? this.#o.maxDeadLetters : this.#o.maxQueueLength;
      while (q.messages.length >= cap && q.messages.length > 0) q.messages.shift();
      if (cap <= 0) continue;
      q.messages.push({ wire: m.wire, routingKey: m.routingKey, expiresAtMs: undefined, redelivered: false });
      this.#schedule(q);
    }
  }

  #emit(s: TransportStatus): void {
    for (const l of this.#listeners) {
      try { l(s); } catch { /* a listener must not break the transport */ }
    }
  }
}
