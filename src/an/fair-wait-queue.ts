import type { TaskSpec } from '../protocol/messages';

/** Something waiting for a slot, with what ordering needs. */
export interface Waiting {
  spec: TaskSpec;
  /** When it started waiting here (for releasing items that waited too long). */
  sinceMs: number;
}

/**
 * Tasks received but not yet placed. The next one is the highest priority; within a priority,
 * the (owner, type) flow served longest ago goes first, so neither an owner with a big backlog
 * nor a busy task type can starve the others; within a flow, first come first served.
 */
export class FairWaitQueue<T extends Waiting> {
  #items: T[] = [];
  #lastServed = new Map<string, number>();
  #clock = 0;

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  find(id: string): T | undefined {
    return this.#items.find((i) => i.spec.id === id);
  }

  remove(item: T): void {
    this.#items = this.#items.filter((i) => i !== item);
  }

  /** Removes and returns every item for which `pred` holds. */
  takeWhere(pred: (item: T) => boolean): T[] {
    const out = this.#items.filter(pred);
    if (out.length) this.#items = this.#items.filter((i) => !pred(i));
    return out;
  }

  static flow(spec: TaskSpec): string {
    return `${spec.owner}\u0000${spec.type}`;
  }

  /** Items in the order they should be tried. */
  ordered(): T[] {
    const served = (i: T) => this.#lastServed.get(FairWaitQueue.flow(i.spec)) ?? -1;
    return [...this.#items].sort((a, b) => b.spec.priority - a.spec.priority || served(a) - served(b) || a.sinceMs - b.sinceMs);
  }

  /** Marks an item as served (placed) and removes it. */
  served(item: T): void {
    this.#lastServed.set(FairWaitQueue.flow(item.spec), ++this.#clock);
    this.remove(item);
    if (this.#lastServed.size > 10_000) this.#lastServed.clear();
  }
}
