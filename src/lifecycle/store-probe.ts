import type { Logger } from '../observability';
import { every } from './service';

export interface StoreProbeOptions {
  /** Answers when the store does, rejects (or times out on its own) when it does not. */
  ping: (timeoutMs: number) => Promise<void>;
  intervalMs: number;
  timeoutMs: number;
  log: Logger;
}

/**
 * Readiness of the store, from a cheap periodic ping: a node whose database is gone answers every
 * write with 503, so it must not report itself ready. Only transitions are logged; an outage of
 * minutes is two lines, not one per tick.
 */
export class StoreProbe {
  #reachable = true;
  #stop?: () => void;

  constructor(private readonly o: StoreProbeOptions) {}

  /** Whether the last ping answered (true before the first: the store was just opened). */
  get reachable(): boolean {
    return this.#reachable;
  }

  start(): void {
    this.#stop ??= every(this.o.intervalMs, async () => { await this.check(); }, () => undefined);
  }

  stop(): void {
    this.#stop?.();
  }

  /** One ping; updates {@link reachable} and logs a change. */
  async check(): Promise<boolean> {
    let failure: string | undefined;
    try {
      await this.o.ping(this.o.timeoutMs);
    } catch (err) {
      failure = (err as Error)?.message ?? String(err);
    }
    const reachable = failure === undefined;
    if (reachable !== this.#reachable) {
      if (reachable) this.o.log.info('database reachable again; ready');
      else this.o.log.warn({ err: failure }, 'database not reachable; not ready until it answers');
    }
    this.#reachable = reachable;
    return reachable;
  }
}
