import { createHash } from 'node:crypto';
import { isDataError } from '../errors';
import { every } from '../lifecycle';
import type { Logger, Metrics } from '../observability';
import type { TopologyNames } from '../protocol';
import type { DeadLetterRepository, NewDeadLetter, TaskRecord } from '../store';
import type { ConsumerHandle, Delivery, Transport } from '../transport';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Control characters (NUL among them, which a TEXT column refuses) out of what a sender wrote in clear. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;
/** Claimed task ids kept per letter: a refused pending message names up to a batch of them. */
const MAX_CLAIMED_IDS = 100;

/** Clear, unverified text of a message, made safe to store and show: no control characters, bounded. */
const clean = (v: unknown, max: number): string => String(v ?? '').replace(CONTROL, '').slice(0, max);

/**
 * What is stored of one dead letter. A `task.failed` note names its task in clear; the note is
 * not opened: the store says whether that task failed, and why (its error, written by the An
 * under the attempt's fence). A note that names no failed task, and every message the broker
 * dead-lettered, is kept as a message: its clear headers (cleaned, bounded, marked unverified)
 * and the broker's reason, never its body.
 */
export function describeDeadLetter(delivery: Pick<Delivery, 'message' | 'death'>, failedTask: TaskRecord | undefined): NewDeadLetter {
  const m = delivery.message;
  const messageType = clean(m.type, 64) || 'unknown';
  const claimed = (m.taskIds ?? []).filter((id) => UUID.test(id)).slice(0, MAX_CLAIMED_IDS).map((id) => id.toLowerCase());
  const common = { messageType, sender: clean(m.sender, 128) || null, bodyBytes: m.body.length, sourceQueue: delivery.death ? clean(delivery.death.queue, 256) || null : null };
  if (failedTask?.status === 'failed') return { ...describeFailedTask(failedTask), ...common };
  const id = clean(m.id, 128);
  return {
    ...common, dedupKey: id ? `message:${id}` : `body:${createHash('sha256').update(m.body).digest('hex')}`, taskId: null, claimedTaskIds: claimed.length ? claimed : null,
    reason: delivery.death ? clean(delivery.death.reason, 32) || 'unknown' : 'unverified', errorCode: null, errorMessage: null, attempts: null,
  };
}

/** The dead letter of a task that failed for good, from the task as the store holds it. */
export function describeFailedTask(task: TaskRecord): NewDeadLetter {
  return {
    dedupKey: `task:${task.id}`, taskId: task.id, claimedTaskIds: null, messageType: 'task.failed', reason: 'failed', sender: null, sourceQueue: null, bodyBytes: 0,
    errorCode: task.error ? clean(task.error.code, 64) : null, errorMessage: task.error ? task.error.message.slice(0, 1024) : null, attempts: task.attempts,
  };
}

/** What the intake needs. */
export interface DeadLetterIntakeDeps {
  transport: Transport;
  names: TopologyNames;
  store: Pick<DeadLetterRepository, 'record' | 'trim' | 'count'>;
  /** Reads a task (to confirm a failed task's note). */
  getTask: (id: string) => Promise<TaskRecord | undefined>;
  /** DEAD_LETTER_STORE_MAX: the store keeps the newest this many. */
  maxStored: number;
  /** Wait before a letter is read again after the store failed. */
  retryAfterDbErrorMs: number;
  /** Whether this principal leads: the leader counts the store for anki_dead_letters, the others report 0. */
  isLeader: () => boolean;
  /** How often the leader counts (and, if over `maxStored`, trims) the store. */
  countIntervalMs: number;
  metrics: Metrics;
  log: Logger;
}

/**
 * Moves the dead-letter queue into the store, where operators list and re-drive it (GET
 * /dead-letters). Every principal consumes the queue (competing consumers); the letter's key
 * makes one row of it whoever stores it, and the ack follows the write, so a principal that dies
 * meanwhile loses nothing. The store is bounded like the queue was: beyond `maxStored`, the
 * oldest rows go.
 */
export class DeadLetterIntake {
  #consumer?: ConsumerHandle;
  #stopCounting?: () => void;
  /** New rows since the last trim: a trim runs once per `maxStored / 100` of them, or at once for a small store. */
  #sinceTrim = 0;

  constructor(private readonly d: DeadLetterIntakeDeps) {}

  async start(): Promise<void> {
    this.#stopCounting = every(this.d.countIntervalMs, () => this.reportCount(), (err) => this.d.log.warn({ err: (err as Error).message }, 'dead letters not counted'));
    this.#consumer = await this.d.transport.consume({ name: this.d.names.deadLetterQueue, kind: 'base' }, 16, (delivery) => { void this.#onDeadLetter(delivery); });
  }

  async stop(): Promise<void> {
    this.#stopCounting?.();
    await this.#consumer?.cancel();
  }

  /** Sets anki_dead_letters (the leader's count; 0 elsewhere, so a sum over principals is the count), trimming what is over the bound. */
  async reportCount(): Promise<void> {
    if (!this.d.isLeader()) { this.d.metrics.deadLetters.set(0); return; }
    let n = await this.d.store.count();
    if (n > this.d.maxStored) n -= await this.d.store.trim(this.d.maxStored);
    this.d.metrics.deadLetters.set(n);
  }

  /**
   * Stores the dead letter of a task the leader failed (an expired lease with no attempt left: no
   * An was there to send its note). Best effort: a lost one leaves the task failed, and retryable.
   */
  recordFailedTask(taskId: string): void {
    void (async () => {
      const task = await this.d.getTask(taskId);
      if (task?.status === 'failed' && (await this.d.store.record(describeFailedTask(task)))) await this.#trimNow();
    })().catch((err: Error) => this.d.log.warn({ taskId, err: err.message }, 'dead letter of a failed task not stored'));
  }

  async #onDeadLetter(delivery: Delivery): Promise<void> {
    try {
      const letter = describeDeadLetter(delivery, await this.#failedTaskOf(delivery));
      if (await this.d.store.record(letter)) await this.#trimNow();
      delivery.ack();
    } catch (err) {
      if (isDataError(err)) {
        // A value the store refuses will be refused again: drop it rather than loop on it.
        this.d.log.error({ sqlstate: (err as { code?: string }).code, messageType: clean(delivery.message.type, 64) }, 'a dead letter the store refuses was dropped');
        delivery.ack();
        return;
      }
      this.d.metrics.dbErrors.inc();
      this.d.log.warn({ err: (err as Error).message }, 'storing a dead letter failed; retrying');
      setTimeout(() => delivery.requeue(), this.d.retryAfterDbErrorMs).unref();
    }
  }

  /** The task a `task.failed` note names, if the store has it failed; the note itself is not trusted. */
  async #failedTaskOf(delivery: Delivery): Promise<TaskRecord | undefined> {
    const ids = delivery.message.taskIds ?? [];
    const id = ids[0];
    if (delivery.message.type !== 'task.failed' || delivery.death || ids.length !== 1 || !id || !UUID.test(id)) return undefined;
    const task = await this.d.getTask(id);
    return task?.status === 'failed' ? task : undefined;
  }

  async #trimNow(): Promise<void> {
    if (++this.#sinceTrim < Math.max(1, Math.floor(this.d.maxStored / 100))) return;
    this.#sinceTrim = 0;
    const dropped = await this.d.store.trim(this.d.maxStored);
    if (dropped > 0) this.d.log.warn({ dropped, max: this.d.maxStored }, 'the dead-letter store is full: the oldest were dropped');
  }
}
