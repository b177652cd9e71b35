/**
 * A bounded memory of the highest attempt this Ki has started per task, so that an assignment
 * of an attempt it has already run (replayed by someone on the broker, or redelivered) is not
 * run again. Least recently started tasks are forgotten first; entries expire after `ttlMs`.
 * Forgetting is safe as long as `ttlMs` exceeds `ki.assignMaxAgeMs`: an assignment that old is
 * refused on its age.
 */
export class StartedAttempts {
  // A Map iterates in insertion order: re-inserting on every start keeps the oldest first.
  readonly #byTask = new Map<string, { attempt: number; atMs: number }>();

  /**
   * @param maxEntries - tasks remembered at most; 0 remembers nothing.
   * @param ttlMs - how long a start is remembered.
   * @param now - clock, replaced in tests.
   */
  constructor(private readonly maxEntries: number, private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  /** Tasks remembered now. */
  get size(): number {
    return this.#byTask.size;
  }

  /** Whether this attempt of the task, or a later one, was started here within `ttlMs`. */
  hasStarted(taskId: string, attempt: number): boolean {
    const entry = this.#byTask.get(taskId);
    if (!entry) return false;
    if (this.now() - entry.atMs > this.ttlMs) {
      this.#byTask.delete(taskId);
      return false;
    }
    return attempt <= entry.attempt;
  }

  /** Remembers that `attempt` of the task started now. */
  record(taskId: string, attempt: number): void {
    if (this.maxEntries <= 0) return;
    const previous = this.#byTask.get(taskId);
    this.#byTask.delete(taskId);
    this.#byTask.set(taskId, { attempt: Math.max(attempt, previous?.attempt ?? 0), atMs: this.now() });
    for (const oldest of this.#byTask.keys()) {
      if (this.#byTask.size <= this.maxEntries) break;
      this.#byTask.delete(oldest);
    }
  }
}
