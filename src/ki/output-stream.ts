import { MAX_CHUNK_CHARS, MAX_CHUNKS_PER_MESSAGE, type OutputChunks } from '../protocol';

/** What {@link OutputStream} needs. */
export interface OutputStreamOptions {
  taskId: string;
  attempt: number;
  /**
   * Hands one piece of output on to the An; `last`: the attempt ends, send without waiting. Must
   * keep the order of its calls (the Ki's {@link OutputBatcher} does); a failure loses that output
   * only (the result stands).
   */
  send: (body: OutputChunks, last: boolean) => Promise<void>;
  /** Characters one attempt may stream (KI_STREAM_MAX_CHARS); past it the rest is dropped. */
  maxChars: number;
  /** How long chunks gather before they are handed on together (0: within the same turn of the event loop). */
  flushMs: number;
  /** Sends whatever output of the attempt is still gathered further on (the Ki's batcher), when it ends. */
  flushOnClose?: () => void;
  /** Told once when the attempt's output passed `maxChars`. */
  onTruncated?: (maxChars: number) => void;
}

/**
 * The output a running attempt emits (`ctx.emit`), gathered and handed on in order: one piece per
 * flush rather than one per token, each chunk numbered so that a client can tell where it is.
 * Bounded per attempt; {@link close} hands on what is left and waits for every send, so the
 * output is on its way before the result is.
 */
export class OutputStream {
  #buffer: string[] = [];
  #seq = 0;
  #chars = 0;
  #truncated = false;
  #timer?: NodeJS.Timeout;
  #sending: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(private readonly o: OutputStreamOptions) {}

  emit(chunk: unknown): void {
    if (this.#closed || this.#truncated) return;
    let text = typeof chunk === 'string' ? chunk : JSON.stringify(chunk) ?? '';
    if (text === '') return;
    const room = this.o.maxChars - this.#chars;
    if (text.length > room) {
      text = text.slice(0, room);
      this.#truncated = true;
      this.o.onTruncated?.(this.o.maxChars);
    }
    this.#chars += text.length;
    for (let i = 0; i < text.length; i += MAX_CHUNK_CHARS) this.#buffer.push(text.slice(i, i + MAX_CHUNK_CHARS));
    if (this.#buffer.length >= MAX_CHUNKS_PER_MESSAGE) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), this.o.flushMs);
  }

  /** Sends what is gathered and waits until every message of this attempt was sent (or failed). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#flush();
    this.o.flushOnClose?.();
    await this.#sending;
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#buffer.length > 0) {
      const chunks = this.#buffer.splice(0, MAX_CHUNKS_PER_MESSAGE);
      const body: OutputChunks = { v: 1, taskId: this.o.taskId, attempt: this.o.attempt, seq: this.#seq, chunks };
      this.#seq += chunks.length;
      const last = this.#closed && this.#buffer.length === 0;
      // Handed on at once, in order (send keeps it); only the waiting is chained.
      const sent = this.o.send(body, last).catch(() => undefined);
      this.#sending = Promise.all([this.#sending, sent]).then(() => undefined);
    }
  }
}
