/** Ans remembered per task: a task changes An only when one dies or hands it on. */
const MAX_ANS_PER_TASK = 8;

/**
 * A bounded memory of the highest attempt this Ki has started per task and An, so that an
 * assignment of an attempt it has already run (replayed by someone on the broker, or redelivered)
 * is not run again. Per An, because attempt numbers are fenced by the store, not by the Ki: an An
 * that takes over a task whose first An died before recording its dispatch assigns the same
 * attempt number again, and that dispatch must run. Least recently started tasks are forgotten
 * first; entries expire after `ttlMs`. Forgetting is safe as long as `ttlMs` exceeds
 * `ki.assignMaxAgeMs`: an assignment that old is refused on its age.
 */
export class StartedAttempts {
  // A Map iterates in insertion order: re-inserting on every start keeps the oldest first.
  readonly #byTask = new Map<string, { byAn: Map<string, number>; atMs: number }>();

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

  /** Whether this attempt of the task, or a later one, was started here for `an` within `ttlMs`. */
  hasStarted(taskId: string, attempt: number, an: string): boolean {
    const entry = this.#byTask.get(taskId);
    if (!entry) return false;
    if (this.now() - entry.atMs > this.ttlMs) {
      this.#byTask.delete(taskId);
      return false;
    }
    const highest = entry.byAn.get(an);
    return highest !== undefined && attempt <= highest;
  }

  /** Remembers that `attempt` of the task started now for `an`. */
  record(taskId: string, attempt: number, an: string): void {
    if (this.maxEntries <= 0) return;
    const byAn = this.#byTask.get(taskId)?.byAn ?? new Map<string, number>();
    this.#byTask.delete(taskId);
    byAn.set(an, Math.max(attempt, byAn.get(an) ?? 0));
    if (byAn.size > MAX_ANS_PER_TASK) byAn.delete(byAn.keys().next().value!);
    this.#byTask.set(taskId, { byAn, atMs: this.now() });
    for (const oldest of this.#byTask.keys()) {
      if (this.#byTask.size <= this.maxEntries) break;
      this.#byTask.delete(oldest);
    }
  }
}
