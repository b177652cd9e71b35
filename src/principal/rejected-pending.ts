import { configSchema } from '../config';
import type { Logger } from '../observability';
import type { TopologyNames } from '../protocol';
import type { TaskRepository } from '../store';
import type { ConsumerHandle, Delivery, Transport } from '../transport';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the watcher needs. */
export interface RejectedPendingDeps {
  transport: Transport;
  names: TopologyNames;
  repo: TaskRepository;
  log: Logger;
  /**
   * Wait before the message is read again after the store failed to mark its tasks.
   * @defaultValue `principal.deadPendingRetryMs` of the config schema (1000)
   */
  retryAfterDbErrorMs?: number;
}

/**
 * A pending message that an An refused (a key it lacks during a botched rotation, a token it
 * refuses) is dead-lettered, and without this its tasks would wait as `queued` for good: the
 * publish was confirmed, so the sweeper would not look at them. The dead-letter exchange puts a
 * copy of each such message in its own queue; this reads the task ids the message carries in
 * clear and marks those tasks unpublished, so the leader's sweep sends them again. The ids are not
 * authenticated: a forged copy can only cause a republish, and a second copy of a task that is
 * still queued is dropped by the guarded transition when the first one is taken.
 */
export class RejectedPendingWatcher {
  #consumer?: ConsumerHandle;

  constructor(private readonly d: RejectedPendingDeps) {}

  async start(): Promise<void> {
    this.#consumer = await this.d.transport.consume({ name: this.d.names.deadPending, kind: 'base' }, 16, (delivery) => { void this.#onDeadLetter(delivery); });
  }

  async stop(): Promise<void> {
    await this.#consumer?.cancel();
  }

  async #onDeadLetter(delivery: Delivery): Promise<void> {
    const ids = (delivery.message.taskIds ?? []).filter((id) => UUID.test(id)).slice(0, 10_000);
    if (ids.length === 0) { delivery.ack(); return; }
    try {
      const requeued = await this.d.repo.markUnpublished(ids);
      if (requeued > 0) this.d.log.warn({ tasks: requeued, sender: String(delivery.message.sender).slice(0, 128), kid: String(delivery.message.kid).slice(0, 32) }, 'a pending message was refused by its receiver; its tasks will be published again');
      delivery.ack();
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message }, 'marking the tasks of a refused pending message failed; retrying');
      setTimeout(() => delivery.requeue(), this.d.retryAfterDbErrorMs ?? configSchema.principal.deadPendingRetryMs.default).unref();
    }
  }
}
