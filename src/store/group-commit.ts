import { setTimeout as sleep } from 'node:timers/promises';

interface Pending<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions<I, O> {
  /** Writes a whole batch in as few statements as possible; returns one output per item, in order. */
  flush: (items: I[]) => Promise<O[]>;
  /** Largest batch per flush, counted by {@link GroupCommitOptions.weigh}. */
  maxBatch: number;
  /** Weight of one item (e.g. rows it holds); 1 when absent. */
  weigh?: (item: I) => number;
  /** Flushes running at once (several connections can commit in parallel). */
  maxConcurrent?: number;
  /**
   * Whether an error was caused by some item of the batch rather than by the store (e.g. a value
   * it cannot hold). Such a batch is split and written again in halves, so that only the callers
   * of the bad items see the error and the others are written. @defaultValue never
   */
  isItemError?: (err: unknown) => boolean;
  /**
   * Start a flush at the end of the current turn of the event loop instead of at once, so that
   * items submitted together (one loop over many tasks, several requests read in one poll) share
   * one statement instead of the first going alone. @defaultValue false
   */
  coalesce?: boolean;
  /** Hears the size of every batch flushed, counted by {@link GroupCommitOptions.weigh} (for the batch-size metric). */
  onBatch?: (weight: number) => void;
}

/**
 * Group commit: callers submit one item and await its own outcome, while items that arrive during
 * a flush are written together by the next one. At low load a flush starts at once (no added
 * latency); under load batches grow on their own, so one commit serves many callers.
 */
export class GroupCommitter<I, O> {
  #queue: Pending<I, O>[] = [];
  #running = 0;
  #weight = 0;
  #scheduled = false;
  readonly #maxConcurrent: number;
  constructor(private readonly o: GroupCommitOptions<I, O>) {
    this.#maxConcurrent = o.maxConcurrent ?? 2;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#weight += this.o.weigh?.(item) ?? 1;
      if (!this.o.coalesce || this.#weight >= this.o.maxBatch) this.#pump();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => { this.#scheduled = false; this.#pump(); });
      }
    });
  }

  /** Items waiting for a flush. */
  get backlog(): number {
    return this.#queue.length;
  }

  /** Weight of the items waiting for a flush or being written. */
  get backlogWeight(): number {
    return this.#weight;
  }

  /** Resolves when nothing is queued or being written. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#running > 0) await sleep(5);
  }

  #pump(): void {
    while (this.#running < this.#maxConcurrent && this.#queue.length > 0) {
      const { batch, weight } = this.#takeBatch();
      this.#running++;
      void this.#write(batch, weight);
    }
  }

  /** The next batch and its weight (its item count when there is no `weigh`). */
  #takeBatch(): { batch: Pending<I, O>[]; weight: number } {
    if (!this.o.weigh) {
      const batch = this.#queue.splice(0, this.o.maxBatch);
      return { batch, weight: batch.length };
    }
    let weight = 0;
    let n = 0;
    while (n < this.#queue.length) {
      const w = this.o.weigh(this.#queue[n]!.item);
      if (n > 0 && weight + w > this.o.maxBatch) break;
      weight += w;
      n++;
    }
    return { batch: this.#queue.splice(0, n), weight };
  }

  async #write(batch: Pending<I, O>[], weight: number): Promise<void> {
    this.o.onBatch?.(weight);
    try {
      await this.#writeOrSplit(batch);
    } finally {
      this.#weight -= weight;
      this.#running--;
      this.#pump();
    }
  }

  /** Writes a batch; an item error splits it in halves until the bad items stand alone. */
  async #writeOrSplit(batch: Pending<I, O>[]): Promise<void> {
    try {
      const out = await this.o.flush(batch.map((p) => p.item));
      if (out.length !== batch.length) throw new Error(`group commit flush returned ${out.length} results for ${batch.length} items`);
      batch.forEach((p, i) => p.resolve(out[i] as O));
    } catch (err) {
      if (batch.length > 1 && this.o.isItemError?.(err)) {
        const half = Math.ceil(batch.length / 2);
        await this.#writeOrSplit(batch.slice(0, half));
        await this.#writeOrSplit(batch.slice(half));
        return;
      }
      for (const p of batch) p.reject(err);
    }
  }
}
