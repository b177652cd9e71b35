import type { OutputChunks } from '../protocol';

/** What {@link OutputBatcher} needs. */
export interface OutputBatcherOptions {
  /** Sends one message of output to An `an`; a failure loses that message's output only (the results stand). */
  send: (an: string, items: OutputChunks[]) => Promise<void>;
  /** How long output gathers before it goes (KI_STREAM_FLUSH_MS). */
  flushMs: number;
  /** Pieces of output per message at most. */
  maxItems: number;
  /** Characters per message past which it goes at once: a message stays far below the broker's size limit. */
  maxChars: number;
}

interface Batch {
  items: OutputChunks[];
  chars: number;
  timer?: NodeJS.Timeout;
  /** Resolves once the message carrying this batch was sent, or failed. */
  sent: Promise<void>;
  settle: () => void;
}

function newBatch(): Batch {
  let settle!: () => void;
  const sent = new Promise<void>((resolve) => { settle = resolve; });
  return { items: [], chars: 0, sent, settle };
}

/**
 * The output of every attempt running on this Ki, gathered per An for a few milliseconds and sent
 * as one message: 100 streams of a token every 20 ms are then about 50 messages a second to each
 * An, not 5,000. Messages to one An leave in the order their output was added, so each attempt's
 * chunks stay in order.
 */
export class OutputBatcher {
  readonly #batches = new Map<string, Batch>();
  /** The last send to each An: the next one goes after it. */
  readonly #sending = new Map<string, Promise<void>>();

  constructor(private readonly o: OutputBatcherOptions) {}

  /** Adds one attempt's output for An `an`; resolves once it was sent (or its send failed). `last`: send it now. */
  add(an: string, body: OutputChunks, last = false): Promise<void> {
    let batch = this.#batches.get(an);
    if (!batch) {
      batch = newBatch();
      this.#batches.set(an, batch);
    }
    batch.items.push(body);
    for (const chunk of body.chunks) batch.chars += chunk.length;
    const { sent } = batch;
    if (last || batch.items.length >= this.o.maxItems || batch.chars >= this.o.maxChars) this.flush(an);
    else batch.timer ??= setTimeout(() => this.flush(an), this.o.flushMs);
    return sent;
  }

  /** Sends what is gathered for An `an` now. */
  flush(an: string): void {
    const batch = this.#batches.get(an);
    if (!batch) return;
    this.#batches.delete(an);
    clearTimeout(batch.timer);
    const previous = this.#sending.get(an) ?? Promise.resolve();
    const sending = previous.then(() => this.o.send(an, batch.items)).catch(() => undefined).finally(batch.settle);
    this.#sending.set(an, sending);
    void sending.then(() => { if (this.#sending.get(an) === sending) this.#sending.delete(an); });
  }
}
