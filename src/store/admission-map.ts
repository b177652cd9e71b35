import { OverloadedError } from '../errors';

/** What the principal remembers of a task it admitted until it hears the task finished. */
export interface AdmittedTask {
  owner: string;
  createdAtMs: number;
}

/**
 * The principal's in-memory map of admitted, unfinished tasks. An entry is written before the DB
 * insert and removed again if the insert fails, so the map never holds a task the store lacks.
 * Its size bounds how much work one principal has taken on: beyond `capacity`, admission answers 503.
 */
export class AdmissionMap {
  readonly #tasks = new Map<string, AdmittedTask>();
  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.#tasks.size;
  }

  has(id: string): boolean {
    return this.#tasks.has(id);
  }

  get(id: string): AdmittedTask | undefined {
    return this.#tasks.get(id);
  }

  /**
   * Admits tasks, runs `write` (the DB insert) and keeps them only if it succeeds.
   * The previous value of each id is restored when the write fails.
   */
  async admit<T>(entries: readonly (AdmittedTask & { id: string })[], write: () => Promise<T>): Promise<T> {
    const added = entries.filter((e) => !this.#tasks.has(e.id)).length;
    if (this.#tasks.size + added > this.capacity) {
      throw new OverloadedError(`principal holds ${this.#tasks.size} unfinished tasks (limit ${this.capacity})`);
    }
    const previous = entries.map((e) => [e.id, this.#tasks.get(e.id)] as const);
    for (const e of entries) this.#tasks.set(e.id, { owner: e.owner, createdAtMs: e.createdAtMs });
    try {
      return await write();
    } catch (err) {
      for (const [id, prev] of previous) {
        if (prev) this.#tasks.set(id, prev);
        else this.#tasks.delete(id);
      }
      throw err;
    }
  }

  /** Forgets a task (it finished, or it was deleted). */
  release(id: string): AdmittedTask | undefined {
    const t = this.#tasks.get(id);
    this.#tasks.delete(id);
    return t;
  }

  /** Ids admitted before `beforeMs` (for reconciling entries whose finish event was missed). */
  olderThan(beforeMs: number, limit: number): string[] {
    const out: string[] = [];
    for (const [id, t] of this.#tasks) {
      if (out.length >= limit) break;
      if (t.createdAtMs < beforeMs) out.push(id);
    }
    return out;
  }
}
