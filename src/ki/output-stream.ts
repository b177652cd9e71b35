import { MAX_CHUNK_CHARS, MAX_CHUNKS_PER_MESSAGE, type OutputChunks } from '../protocol';

/** What {@link OutputStream} needs. */
export interface OutputStreamOptions {
  taskId: string;
  attempt: number;
  /** Sends one message of chunks to the An; a failure loses that output only (the result stands). */
  send: (body: OutputChunks) => Promise<void>;
  /** Characters one attempt may stream (KI_STREAM_MAX_CHARS); past it the rest is dropped. */
  maxChars: number;
  /** How long chunks gather before they are sent together (KI_STREAM_FLUSH_MS). */
  flushMs: number;
  /** Told once when the attempt's output passed `maxChars`. */
  onTruncated?: (maxChars: number) => void;
}

/**
 * The output a running attempt emits (`ctx.emit`), gathered for a few milliseconds and sent to
 * its An in order: one message per flush rather than one per token, each chunk numbered so that a
 * client can tell where it is. Bounded per attempt; {@link close} sends what is left and waits
 * for every send, so the output is on its way before the result is.
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
    this.#flush();
    this.#closed = true;
    await this.#sending;
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#buffer.length > 0) {
      const chunks = this.#buffer.splice(0, MAX_CHUNKS_PER_MESSAGE);
      const body: OutputChunks = { v: 1, taskId: this.o.taskId, attempt: this.o.attempt, seq: this.#seq, chunks };
      this.#seq += chunks.length;
      // Chained: the broker gets the messages in the order the chunks were emitted.
      this.#sending = this.#sending.then(() => this.o.send(body)).catch(() => undefined);
    }
  }
}
