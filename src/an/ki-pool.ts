import type { Heartbeat } from '../cluster/membership';

/** What the An knows of one Ki of its group. */
export interface KiSlotState {
  id: string;
  /** Slots the Ki advertises. */
  total: number;
  /** Slots this An has reserved on it (authoritative for placement). */
  reserved: number;
  lastAssignedMs: number;
  types: string[];
  labels: string[];
}

export type KiPolicy = 'least-loaded' | 'lru';

/**
 * The Kis an An schedules onto, with its own slot reservations. Heartbeats update what each Ki
 * offers; reservations are counted here so two tasks never race for the last slot.
 */
export class KiPool {
  readonly #kis = new Map<string, KiSlotState>();
  constructor(private readonly policy: KiPolicy, private readonly now: () => number = Date.now) {}

  /** Adds or refreshes a Ki from its heartbeat; returns true when capacity changed. */
  upsert(hb: Heartbeat): boolean {
    const prev = this.#kis.get(hb.id);
    if (prev) {
      const changed = prev.total !== hb.slots.total;
      prev.total = hb.slots.total;
      prev.types = hb.types;
      prev.labels = hb.labels;
      return changed;
    }
    this.#kis.set(hb.id, { id: hb.id, total: hb.slots.total, reserved: 0, lastAssignedMs: 0, types: hb.types, labels: hb.labels });
    return true;
  }

  /** Forgets a Ki (dead, left or moved to another group); returns true when it was known. */
  remove(id: string): boolean {
    return this.#kis.delete(id);
  }

  has(id: string): boolean {
    return this.#kis.has(id);
  }

  get capacity(): number {
    let n = 0;
    for (const k of this.#kis.values()) n += k.total;
    return n;
  }

  get free(): number {
    let n = 0;
    for (const k of this.#kis.values()) n += Math.max(0, k.total - k.reserved);
    return n;
  }

  /** Whether any Ki of the pool runs this task type. */
  supports(type: string): boolean {
    for (const k of this.#kis.values()) if (k.types.includes(type)) return true;
    return false;
  }

  /** Picks a Ki with a free slot for the task type by the policy and reserves the slot; undefined when none. */
  reserve(type: string, exclude: ReadonlySet<string> = new Set()): string | undefined {
    let best: KiSlotState | undefined;
    for (const k of this.#kis.values()) {
      if (k.reserved >= k.total || exclude.has(k.id) || !k.types.includes(type)) continue;
      if (!best || this.#better(k, best)) best = k;
    }
    if (!best) return undefined;
    best.reserved++;
    best.lastAssignedMs = this.now();
    return best.id;
  }

  release(id: string): void {
    const k = this.#kis.get(id);
    if (k && k.reserved > 0) k.reserved--;
  }

  ids(): string[] {
    return [...this.#kis.keys()];
  }

  #better(a: KiSlotState, b: KiSlotState): boolean {
    if (this.policy === 'lru') return a.lastAssignedMs < b.lastAssignedMs;
    const la = a.reserved / a.total;
    const lb = b.reserved / b.total;
    return la < lb || (la === lb && a.lastAssignedMs < b.lastAssignedMs);
  }
}
