import type { TaskEvent } from '../protocol';

/**
 * Collects terminal-state events and sends them as one message per short window (or per
 * `maxBatch`), instead of one sealed, confirmed message per task.
 */
export class EventBatcher {
  #pending: TaskEvent[] = [];
  #timer?: NodeJS.Timeout;
  constructor(private readonly send: (events: TaskEvent[]) => Promise<void>, private readonly windowMs = 20, private readonly maxBatch = 1000) {}

  add(event: TaskEvent): void {
    this.#pending.push(event);
    if (this.#pending.length >= this.maxBatch) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.windowMs);
  }

  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const events = this.#pending;
    this.#pending = [];
    // An event lost to a broker failure is not fatal: principals reconcile their maps from the store.
    if (events.length > 0) await this.send(events).catch(() => undefined);
  }
}
