/**
 * Collects a child's output up to `maxBytes` and drops the rest. The stream keeps being read
 * past the bound: a child whose pipe is not drained blocks on write and never exits.
 */
export class BoundedOutput {
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  #truncated = false;

  constructor(readonly maxBytes: number) {}

  /** Adds a chunk, keeping only what still fits. */
  push(chunk: Buffer): void {
    const room = this.maxBytes - this.#bytes;
    if (chunk.length > room) this.#truncated = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.#chunks.push(kept);
    this.#bytes += kept.length;
  }

  /** True once anything was dropped. */
  get truncated(): boolean {
    return this.#truncated;
  }

  /** The kept bytes as UTF-8 (a character cut at the bound becomes U+FFFD). */
  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}
