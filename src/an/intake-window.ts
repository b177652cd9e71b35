import type { AppConfig } from '../config';
import { CARRIES, PENDING_TASKS_PER_MESSAGE, type PendingItem, type CarriedBy, type TopologyNames } from '../protocol';
import type { ConsumerHandle, Delivery, MessageBus, Received } from '../transport';
import type { HeldTask, PendingSuccessor } from './in-flight';
import type { HeldTasks } from './held-tasks';
import type { KiPool } from './ki-pool';
import { republishPending, splitDelivery } from './pending-parts';

/** What {@link IntakeWindow} needs. */
export interface IntakeWindowDeps {
  bus: Pick<MessageBus, 'subscribe' | 'send'>;
  names: TopologyNames;
  /** `an.maxWaitMs` and the window sizing (`an.window*`); the replay window that says which pending message is fresh. */
  config: { security: Pick<AppConfig['security'], 'replayWindowMs'>; an: Pick<AppConfig['an'], 'maxWaitMs' | 'windowTasksPerSlot' | 'windowMinTasks' | 'windowMaxTasks'> };
  pool: Pick<KiPool, 'capacity'>;
  held: HeldTasks;
  /** Runs a placement pass over what waits. */
  wake: () => void;
}

/**
 * Takes pending tasks from the priority-band queues into a bounded look-ahead window: sizes the
 * prefetch of the band consumers, pauses intake while too many tasks wait here and resumes it
 * once half were placed, and gives back tasks that waited here too long.
 */
export class IntakeWindow {
  #bands: ConsumerHandle[] = [];
  #window = -1;
  /** Tasks the window may hold (a pending message carries several). */
  #windowTasks = 0;
  /**
   * Moving mean of the tasks per pending message, which sizes the prefetch. It starts at a full
   * message: a backlog already in the queue arrives all at once, before any mean could adapt.
   */
  #tasksPerMessage = PENDING_TASKS_PER_MESSAGE;
  /** Intake paused because more tasks wait here than the window is for. */
  #overfull = false;
  #cancelled = false;

  constructor(private readonly d: IntakeWindowDeps) {}

  /** The prefetch the band consumers have now (messages). @internal */
  get prefetch(): number {
    return this.#window;
  }

  /** Whether intake is paused because too many tasks wait here. @internal */
  get overfull(): boolean {
    return this.#overfull;
  }

  /** Declares and consumes the band queues, with window 0 until a Ki joins the group. */
  async subscribe(): Promise<void> {
    // Window 0 until a Ki joins the group: the queues are declared but not consumed.
    for (const q of this.d.names.pendingBands) this.#bands.push(await this.d.bus.subscribe({ name: q, kind: 'quorum' }, 0, CARRIES.pending, (r) => this.#onPending(r)));
    this.#window = 0;
  }

  /** Stops consuming the band queues (unacked messages go back to the broker). */
  async cancel(): Promise<void> {
    this.#cancelled = true;
    for (const b of this.#bands) await b.cancel();
  }

  /**
   * Takes in the pending message that came for a task while this An held an earlier copy, now let
   * go. It counts as a redelivery: its dispatch is recorded before it is assigned, so a task that
   * finished meanwhile is refused by its guard, and one the leader took back runs again.
   */
  retake(s: PendingSuccessor): void {
    if (this.#cancelled) { s.delivery.requeue(); return; }
    this.#take(s.item, s.delivery, s.trace, false);
    this.d.wake();
    this.apply();
  }

  /**
   * The look-ahead window per band: several times the group's capacity (`an.windowTasksPerSlot`,
   * bounded by `an.windowMinTasks` and `an.windowMaxTasks`), so priorities and fairness have a
   * choice, while the backlog itself stays in RabbitMQ. A task that waits here too long goes back
   * (after `an.maxWaitMs`) for a less busy An.
   */
  resize(draining: boolean): void {
    const capacity = this.d.pool.capacity;
    const { windowTasksPerSlot, windowMinTasks, windowMaxTasks } = this.d.config.an;
    this.#windowTasks = draining || capacity === 0 ? 0 : Math.min(windowMaxTasks, Math.max(windowMinTasks, capacity * windowTasksPerSlot));
    this.apply();
  }

  /**
   * Prefetch counts messages, and a pending message carries several tasks: intake pauses while
   * more tasks wait here than the window is for, and resumes once half of them were placed.
   */
  apply(): void {
    const waiting = this.d.held.waiting.size;
    if (!this.#overfull && waiting > this.#windowTasks) this.#overfull = true;
    else if (this.#overfull && waiting <= this.#windowTasks / 2) this.#overfull = false;
    const target = this.#overfull ? 0 : this.#prefetchFor(this.#windowTasks);
    if (target !== this.#window) {
      this.#window = target;
      for (const b of this.#bands) void b.setPrefetch(target);
    }
  }

  /** Resumes a paused intake if enough tasks left the wait queue. */
  applyIfOverfull(): void {
    if (this.#overfull) this.apply();
  }

  /**
   * Prefetch counts messages: the window in tasks divided by the tasks a pending message has been
   * carrying (one at low load, up to 64 under load), so a backlog of full messages cannot fill
   * the heap with 64 times the window; but never fewer messages than the group has slots, so
   * one-task messages can still keep every slot busy. It moves in powers of two, so that each
   * change (a new subscription on the broker) is rare.
   */
  #prefetchFor(windowTasks: number): number {
    if (windowTasks <= 0) return 0;
    const perMessage = 2 ** Math.floor(Math.log2(Math.max(1, this.#tasksPerMessage)));
    return Math.min(windowTasks, Math.max(this.d.pool.capacity, Math.ceil(windowTasks / perMessage)));
  }

  #onPending({ msg, delivery }: Received<CarriedBy<'pending'>>): void {
    const { items } = msg.payload;
    this.#tasksPerMessage += (items.length - this.#tasksPerMessage) * 0.1;
    const parts = splitDelivery(delivery, items, (item) => republishPending(this.d.bus, this.d.names, item));
    // A pending message sits in a queue, so an old copy opens: put back by a broker user, it would
    // have a finished task run again. Only a fresh first delivery may be assigned before its
    // dispatch is recorded; any other is recorded first, and its guard refuses a finished task.
    const fresh = !delivery.redelivered && Math.abs(Date.now() - msg.timestampMs) <= this.d.config.security.replayWindowMs;
    items.forEach((item, i) => this.#take(item, parts[i]!, item.trace ?? msg.trace, fresh));
    this.d.wake();
    this.apply();
  }

  #take(p: PendingItem, delivery: Delivery, trace: string | undefined, fresh: boolean): void {
    const held = this.d.held.get(p.task.id);
    if (held) {
      if (held.delivery) {
        // Another message for a task whose dispatch is not recorded yet (a republish): keep one, settle the other.
        if (held.delivery !== delivery) held.delivery.ack();
        held.delivery = delivery;
      } else {
        // Its dispatch was recorded and its message acked: this one may be the leader taking the
        // task back. Acked now, it would be lost once this copy's writes fail their guard.
        held.successor?.delivery.ack();
        held.successor = { item: p, delivery, ...(trace ? { trace } : {}) };
      }
      return;
    }
    const t: HeldTask = { spec: p.task, attempts: p.attempts, delivery, hops: p.hops ?? 0, runs: new Map(), sinceMs: Date.now(), ...(trace ? { trace } : {}), ...(fresh ? {} : { recordFirst: true }) };
    this.d.held.add(t);
    this.d.held.waiting.push(t);
  }

  /** Waiting too long for a slot here: back to the queue so another An may take it. */
  releaseStale(): void {
    const cutoff = Date.now() - this.d.config.an.maxWaitMs;
    for (const t of this.d.held.waiting.takeWhere((w) => w.sinceMs < cutoff && w.delivery !== undefined)) {
      const original = t.delivery;
      t.delivery = undefined;
      this.d.held.delete(t.spec.id);
      original?.requeue();
    }
    this.applyIfOverfull();
  }
}
