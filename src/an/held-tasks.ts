import type { Metrics } from '../observability';
import { FairWaitQueue } from './fair-wait-queue';
import type { HeldTask, PendingSuccessor } from './in-flight';
import type { KiPool } from './ki-pool';

/** What {@link HeldTasks} needs from the An. */
export interface HeldTasksDeps {
  /** Gives back the slots (and GPUs) of a task's replicas. */
  pool: Pick<KiPool, 'release'>;
  metrics: Pick<Metrics, 'tasksInFlight'>;
  /** Runs a placement pass: called when a slot was freed or a task waits again. */
  wake: () => void;
  /** Takes in the later pending message of a task that was let go (see {@link HeldTask.successor}); without it the message goes back to its queue. */
  retake?: (successor: PendingSuccessor) => void;
}

/**
 * The tasks this An holds, from receipt of their pending message until their outcome is stored,
 * and among them the ones waiting for a slot. Every part of the An reads and changes the same
 * {@link HeldTask} objects through this one registry; `holds(t)` tells a part whether the task it
 * worked on is still this An's (not dropped, handed on or replaced by a new copy meanwhile).
 */
export class HeldTasks {
  readonly #byId = new Map<string, HeldTask>();
  /** Held tasks not placed on a Ki yet, in fair order. */
  readonly waiting = new FairWaitQueue<HeldTask>();

  constructor(private readonly d: HeldTasksDeps) {}

  /** Tasks held, waiting or not. */
  get size(): number {
    return this.#byId.size;
  }

  /** Tasks placed on a Ki (dispatched or running), as heartbeats and the in-flight gauge count them. */
  get inFlight(): number {
    return this.#byId.size - this.waiting.size;
  }

  get(id: string): HeldTask | undefined {
    return this.#byId.get(id);
  }

  add(t: HeldTask): void {
    this.#byId.set(t.spec.id, t);
  }

  delete(id: string): void {
    const t = this.#byId.get(id);
    this.#byId.delete(id);
    if (t) this.#passOnSuccessor(t);
  }

  /** Whether `t` is still the copy of its task held here. */
  holds(t: HeldTask): boolean {
    return this.#byId.get(t.spec.id) === t;
  }

  /** A snapshot of the held tasks, safe to iterate while they change. */
  all(): HeldTask[] {
    return [...this.#byId.values()];
  }

  /** The held task if `attempt` is its current attempt (and `ki`, when given, runs a replica of it). */
  current(taskId: string, attempt: number, ki?: string): HeldTask | undefined {
    const t = this.#byId.get(taskId);
    return t && t.attempts === attempt && (ki === undefined || t.runs.has(ki)) ? t : undefined;
  }

  /** Puts a held task back in the wait queue, as if it had just arrived, and places what fits. */
  waitAgain(t: HeldTask): void {
    t.sinceMs = Date.now();
    this.waiting.push(t);
    this.d.wake();
  }

  /** Gives back the slots of every replica of the task. */
  releaseRuns(t: HeldTask): void {
    for (const [ki, run] of t.runs) this.d.pool.release(ki, run.reservation);
    t.runs.clear();
  }

  /** Lets go of a task without writing anything (someone else owns its state). */
  drop(t: HeldTask): void {
    t.delivery?.ack();
    t.delivery = undefined;
    this.releaseRuns(t);
    this.#byId.delete(t.spec.id);
    this.#passOnSuccessor(t);
    this.updateInFlight();
    this.d.wake();
  }

  /** The copy let go: a pending message that came for it meanwhile is taken in as a new one. */
  #passOnSuccessor(t: HeldTask): void {
    const next = t.successor;
    if (!next) return;
    t.successor = undefined;
    if (this.d.retake) this.d.retake(next);
    else next.delivery.requeue();
  }

  updateInFlight(): void {
    this.d.metrics.tasksInFlight.set(this.inFlight);
  }
}
