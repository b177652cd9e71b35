import { setTimeout as sleep } from 'node:timers/promises';

/** Options of a {@link BatchSender}. */
export interface BatchSenderOptions<I> {
  /** Sends one batch to one destination; resolves once it is confirmed. */
  send: (key: string, items: I[]) => Promise<void>;
  /** Most items per message. */
  maxItems: number;
  /** Messages on their way to one destination at once. @defaultValue 2 */
  maxInFlight?: number;
  /** Hears the size of every batch sent (for the batch-size metric). */
  onBatch?: (items: number) => void;
}

interface Lane<I> {
  queue: { item: I; resolve: () => void; reject: (err: unknown) => void }[];
  inFlight: number;
  scheduled: boolean;
}

/**
 * Sends items to many destinations as few messages as possible, without a timer: the first item
 * for an idle destination goes out at the end of the current turn of the event loop (with whatever
 * else was added for it in that turn), and items that arrive while a destination's messages are
 * on their way wait for the next one. At low rates each message carries one item and nothing
 * waits; under load each carries many, so sealing, confirming and acking cost is per batch.
 */
export class BatchSender<I> {
  readonly #lanes = new Map<string, Lane<I>>();
  readonly #maxInFlight: number;
  constructor(private readonly o: BatchSenderOptions<I>) {
    this.#maxInFlight = o.maxInFlight ?? 2;
  }

  /** Resolves once the message carrying `item` is confirmed; rejects when it could not be sent. */
  add(key: string, item: I): Promise<void> {
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { queue: [], inFlight: 0, scheduled: false };
      this.#lanes.set(key, lane);
    }
    const l = lane;
    return new Promise<void>((resolve, reject) => {
      l.queue.push({ item, resolve, reject });
      if (l.queue.length >= this.o.maxItems) this.#pump(key, l);
      else if (!l.scheduled) {
        l.scheduled = true;
        setImmediate(() => { l.scheduled = false; this.#pump(key, l); });
      }
    });
  }

  /** Items waiting or on their way. */
  get backlog(): number {
    let n = 0;
    for (const l of this.#lanes.values()) n += l.queue.length + l.inFlight;
    return n;
  }

  /** Resolves when nothing is waiting or on its way. */
  async drain(): Promise<void> {
    while (this.backlog > 0) await sleep(5);
  }

  #pump(key: string, l: Lane<I>): void {
    while (l.inFlight < this.#maxInFlight && l.queue.length > 0) {
      const batch = l.queue.splice(0, this.o.maxItems);
      l.inFlight++;
      this.o.onBatch?.(batch.length);
      this.o.send(key, batch.map((b) => b.item)).then(
        () => { for (const b of batch) b.resolve(); },
        (err: unknown) => { for (const b of batch) b.reject(err); },
      ).finally(() => {
        l.inFlight--;
        // Items that gathered while this batch was on its way go now; an idle lane is forgotten.
        if (l.queue.length > 0) this.#pump(key, l);
        else if (l.inFlight === 0 && !l.scheduled) this.#lanes.delete(key);
      });
    }
  }
}
