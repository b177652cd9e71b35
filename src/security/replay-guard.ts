/**
 * Remembers message ids for at least `windowMs` in two rotating generations: memory is bounded by
 * the message rate times two windows, and lookups stay O(1) without a timer per id.
 */
export class ReplayGuard {
  #current = new Set<string>();
  #previous = new Set<string>();
  #rotatedAt: number;
  constructor(private readonly windowMs: number, private readonly now: () => number = Date.now) {
    this.#rotatedAt = now();
  }

  /** True when the id was seen within the window; records it otherwise. */
  seen(id: string): boolean {
    const t = this.now();
    if (t - this.#rotatedAt >= this.windowMs) {
      this.#previous = t - this.#rotatedAt >= 2 * this.windowMs ? new Set() : this.#current;
      this.#current = new Set();
      this.#rotatedAt = t;
    }
    if (this.#current.has(id) || this.#previous.has(id)) return true;
    this.#current.add(id);
    return false;
  }

  get size(): number {
    return this.#current.size + this.#previous.size;
  }
}
