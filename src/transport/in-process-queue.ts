import type { WireMessage } from '../protocol';
import { Deque } from './deque';
import type { DeathRecord, Delivery, QueueKind } from './types';

/** A message sitting in an in-process queue. */
export interface QueuedMessage {
  readonly wire: WireMessage;
  /** The routing key it was published with (the queue name for the default exchange); kept for dead-lettering. */
  readonly routingKey: string;
  readonly expiresAtMs: number | undefined;
  redelivered: boolean;
  /** How it was dead-lettered, when it was (like the broker's `x-death`). */
  readonly death?: DeathRecord;
}

/** One delivery handed to a consumer and not settled yet. */
interface Unacked {
  readonly message: QueuedMessage;
  settled: boolean;
}

/** One consumer of an {@link InProcessQueue}, made by {@link InProcessQueue.addConsumer}. */
export interface QueueConsumer {
  readonly handler: (d: Delivery) => void;
  prefetch: number;
  readonly unacked: Set<Unacked>;
  cancelled: boolean;
}

/** What a queue needs from the transport that owns it. */
export interface QueueHost {
  /** Started and not stopped: deliveries may be scheduled. */
  isDelivering(): boolean;
  /** Stopped for good: nothing is delivered or settled any more. */
  isStopped(): boolean;
  /** Deliveries handed out per queue before yielding to the event loop. */
  readonly deliveriesPerTurn: number;
  /** Routes a message rejected on queue `from` through the dead-letter exchange. */
  deadLetter(message: QueuedMessage, from: string): void;
}

/**
 * One queue of the in-process transport: its ready messages, its consumers, and how deliveries
 * are handed out and settled. Deliveries are always made from a later event-loop turn, never from
 * inside an enqueue or a settle call, so a handler never runs re-entrantly.
 */
export class InProcessQueue {
  readonly #host: QueueHost;
  readonly #messages = new Deque<QueuedMessage>();
  /** Consumers taking deliveries (prefetch above 0), in the order they (re)subscribed. */
  readonly #active: QueueConsumer[] = [];
  /** Every consumer of this queue, paused ones included. */
  readonly #consumers = new Set<QueueConsumer>();
  /** Next consumer to try, for round-robin. */
  #next = 0;
  #pumpScheduled = false;
  #deleted = false;

  /**
   * @param dropHeadAt - a bounded queue (the dead letters) keeps its newest `dropHeadAt` messages,
   *   dropping the oldest, as the broker's `x-overflow: drop-head` does; unset: a full queue refuses.
   */
  constructor(readonly name: string, readonly kind: QueueKind, host: QueueHost, readonly dropHeadAt?: number) {
    this.#host = host;
  }

  /** Ready messages, expired ones not yet dropped included. */
  get length(): number {
    return this.#messages.length;
  }

  /** Whether the queue was deleted; a deleted queue takes and delivers nothing. */
  get deleted(): boolean {
    return this.#deleted;
  }

  /** Consumers attached, paused ones included. */
  get consumerCount(): number {
    return this.#consumers.size;
  }

  /** Ready messages after dropping those expired at the head. */
  readyCount(): number {
    this.#dropExpiredHead();
    return this.#messages.length;
  }

  /** Adds a message at the tail and arranges its delivery. */
  enqueue(m: QueuedMessage): void {
    this.#messages.push(m);
    this.schedule();
  }

  /**
   * Adds a message at the tail after dropping the oldest ones until fewer than `cap` remain
   * (drop-head overflow), so adding can never fail; with a cap of 0 nothing is kept.
   */
  enqueueDroppingHead(m: QueuedMessage, cap: number): void {
    while (this.#messages.length >= cap && this.#messages.length > 0) this.#messages.shift();
    if (cap <= 0) return;
    this.enqueue(m);
  }

  /** Attaches a consumer; with a prefetch of 0 it is paused until {@link InProcessQueue.setPrefetch} raises it. */
  addConsumer(handler: (d: Delivery) => void, prefetch: number): QueueConsumer {
    const c: QueueConsumer = { handler, prefetch: Math.max(0, prefetch), unacked: new Set(), cancelled: false };
    this.#consumers.add(c);
    if (c.prefetch > 0) this.#active.push(c);
    this.schedule();
    return c;
  }

  /** Changes how many unacked deliveries `c` may hold; 0 pauses it. */
  setPrefetch(c: QueueConsumer, count: number): void {
    if (c.cancelled) return;
    const was = c.prefetch;
    c.prefetch = Math.max(0, count);
    // Pausing leaves the consumer list and resuming joins it at the end, as an AMQP
    // basic.cancel / basic.consume pair would; unacked deliveries stay settleable meanwhile.
    if (c.prefetch === 0 && was > 0) this.#deactivate(c);
    else if (c.prefetch > 0 && was === 0 && !this.#deleted) this.#active.push(c);
    this.schedule();
  }

  /**
   * Takes a consumer off the queue. Its unsettled deliveries go back to the head of the queue
   * (`requeue`, as when an AMQP channel closes) or are dropped with the queue (`drop`); either
   * way settling them later does nothing.
   */
  detach(c: QueueConsumer, unackedTo: 'requeue' | 'drop'): void {
    c.cancelled = true;
    this.#deactivate(c);
    this.#consumers.delete(c);
    const pending = [...c.unacked];
    c.unacked.clear();
    for (const u of pending) u.settled = true;
    if (unackedTo === 'requeue' && !this.#deleted) {
      // Back to the head in their original order.
      for (let n = pending.length - 1; n >= 0; n--) {
        const m = pending[n]!.message;
        m.redelivered = true;
        this.#messages.unshift(m);
      }
      this.schedule();
    }
  }

  /** Detaches every consumer, see {@link InProcessQueue.detach}. */
  detachAll(unackedTo: 'requeue' | 'drop'): void {
    for (const c of [...this.#consumers]) this.detach(c, unackedTo);
  }

  /** Marks the queue deleted and drops its messages; the owner removes it from its tables. */
  markDeleted(): void {
    this.#deleted = true;
    this.#messages.clear();
  }

  /** Arranges one delivery round on a later turn of the event loop. */
  schedule(): void {
    if (this.#pumpScheduled || !this.#host.isDelivering() || this.#deleted) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #deactivate(c: QueueConsumer): void {
    const at = this.#active.indexOf(c);
    if (at < 0) return;
    this.#active.splice(at, 1);
    if (this.#next > at) this.#next--;
  }

  #pump(): void {
    if (this.#host.isStopped() || this.#deleted) return;
    for (let budget = this.#host.deliveriesPerTurn; budget > 0; budget--) {
      this.#dropExpiredHead();
      if (this.#messages.length === 0) return;
      const c = this.#pickConsumer();
      if (!c) return;
      this.#deliver(c, this.#messages.shift()!);
    }
    this.schedule();
  }

  /** Expired messages are removed when they reach the head, as RabbitMQ does for per-message TTL. */
  #dropExpiredHead(): void {
    const now = Date.now();
    for (let m = this.#messages.peek(); m?.expiresAtMs !== undefined && m.expiresAtMs <= now; m = this.#messages.peek()) this.#messages.shift();
  }

  /** The consumer for the next message: the first one only on a single-active queue, else round-robin among those with room. */
  #pickConsumer(): QueueConsumer | undefined {
    if (this.#active.length === 0) return undefined;
    if (this.kind === 'single-active') {
      const first = this.#active[0]!;
      return first.unacked.size < first.prefetch ? first : undefined;
    }
    for (let n = 0; n < this.#active.length; n++) {
      const at = (this.#next + n) % this.#active.length;
      const c = this.#active[at]!;
      if (c.unacked.size < c.prefetch) {
        this.#next = (at + 1) % this.#active.length;
        return c;
      }
    }
    return undefined;
  }

  #deliver(c: QueueConsumer, m: QueuedMessage): void {
    const u: Unacked = { message: m, settled: false };
    c.unacked.add(u);
    const settle = (then: () => void) => {
      if (u.settled || this.#host.isStopped()) { u.settled = true; return; }
      u.settled = true;
      c.unacked.delete(u);
      then();
      this.schedule();
    };
    const delivery: Delivery = {
      message: m.wire,
      redelivered: m.redelivered,
      ...(m.death ? { death: m.death } : {}),
      ack: () => settle(() => undefined),
      reject: () => settle(() => this.#host.deadLetter(m, this.name)),
      requeue: () => settle(() => {
        if (this.#deleted) return;
        m.redelivered = true;
        this.#messages.unshift(m);
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
}
