import type { TaskSpec } from '../protocol';

/** Something waiting for a slot, with what ordering needs. */
export interface Waiting {
  spec: TaskSpec;
  /** When it started waiting here (for releasing items that waited too long). */
  sinceMs: number;
}

/**
 * Tasks received but not yet placed, kept as one FIFO per (priority, owner, type) flow. Candidates
 * come highest priority first; within a priority, flows take turns (the flow served longest ago
 * first), so neither an owner with a big backlog nor a busy task type starves the others. Nothing
 * is sorted per message: only the few flows of a priority are ordered, lazily, while iterating.
 */
export class FairWaitQueue<T extends Waiting> {
  readonly #byPriority = new Map<number, Map<string, T[]>>();
  readonly #lastServed = new Map<string, number>();
  #clock = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  static flow(spec: TaskSpec): string {
    return `${spec.owner}\u0000${spec.type}`;
  }

  push(item: T): void {
    let flows = this.#byPriority.get(item.spec.priority);
    if (!flows) this.#byPriority.set(item.spec.priority, (flows = new Map<string, T[]>()));
    const key = FairWaitQueue.flow(item.spec);
    const list = flows.get(key);
    if (list) list.push(item);
    else flows.set(key, [item]);
    this.#size++;
  }

  find(id: string): T | undefined {
    for (const flows of this.#byPriority.values()) for (const list of flows.values()) for (const i of list) if (i.spec.id === id) return i;
    return undefined;
  }

  remove(item: T): void {
    const flows = this.#byPriority.get(item.spec.priority);
    const key = FairWaitQueue.flow(item.spec);
    const list = flows?.get(key);
    const at = list ? (list[0] === item ? 0 : list.indexOf(item)) : -1;
    if (!flows || !list || at < 0) return;
    if (at === 0) list.shift();
    else list.splice(at, 1);
    this.#size--;
    if (list.length === 0) {
      flows.delete(key);
      if (flows.size === 0) this.#byPriority.delete(item.spec.priority);
    }
  }

  /** Removes and returns every item for which `pred` holds. */
  takeWhere(pred: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (const flows of this.#byPriority.values()) for (const list of flows.values()) for (const i of list) if (pred(i)) out.push(i);
    for (const i of out) this.remove(i);
    return out;
  }

  /**
   * Candidates in the order they should be tried: by priority, then flows interleaved (first of
   * each flow, then second of each...). Do not add or remove while iterating.
   */
  *candidates(): Generator<T> {
    const priorities = [...this.#byPriority.keys()].sort((a, b) => b - a);
    for (const p of priorities) {
      const flows = [...this.#byPriority.get(p)!.entries()].sort((a, b) => (this.#lastServed.get(a[0]) ?? -1) - (this.#lastServed.get(b[0]) ?? -1)).map(([, list]) => list);
      const longest = Math.max(...flows.map((l) => l.length));
      for (let i = 0; i < longest; i++) for (const list of flows) if (i < list.length) yield list[i]!;
    }
  }

  /** All items in candidate order. */
  ordered(): T[] {
    return [...this.candidates()];
  }

  /** Marks an item as served (placed) and removes it. */
  served(item: T): void {
    this.#lastServed.set(FairWaitQueue.flow(item.spec), ++this.#clock);
    this.remove(item);
    if (this.#lastServed.size > 10_000) this.#lastServed.clear();
  }
}
