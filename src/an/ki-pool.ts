import type { Heartbeat } from '../cluster';
import type { ModelState, Requirements, TaskSpec } from '../protocol';
import { createGpuAllocator, type GpuAllocator, type GpuReservation } from './gpu-allocator';
import { anyHolds, modelRank, type KiModels, type PlacedModel } from './model-placement';

/** What the An knows of one Ki of its group. */
export interface KiSlotState extends KiModels {
  id: string;
  /** Its stable identity (heartbeat `stableId`, else its id): quarantine, cordon and benches name it. */
  key: string;
  /** Slots the Ki advertises. */
  total: number;
  /** Slots this An has reserved on it (authoritative for placement). */
  reserved: number;
  lastAssignedMs: number;
  types: string[];
  labels: string[];
  gpus: GpuAllocator;
  gpuKey: string;
  models: Map<string, ModelState>;
}

export type KiPolicy = 'least-loaded' | 'lru';

/** Where a task goes, or why it cannot go anywhere in this group now. */
export type Placement =
  | { kind: 'placed'; ki: string; gpus: number[]; reservation: GpuReservation | null }
  | { kind: 'not-now' }
  | { kind: 'never'; reason: string };

/** Why no Ki of `kis` could ever run `spec`, or null when one could. */
export function unfitReason(spec: Pick<TaskSpec, 'type' | 'requirements'>, kis: readonly Pick<Heartbeat, 'types' | 'labels' | 'gpus' | 'modelTypes'>[], model?: PlacedModel): string | null {
  const r = spec.requirements;
  const typed = kis.filter((k) => k.types.includes(spec.type));
  if (typed.length === 0) return `no Ki runs task type "${spec.type}"`;
  if (model && !typed.some((k) => k.modelTypes?.includes(model.type))) return `no Ki running "${spec.type}" loads models of type "${model.type}" (model "${model.name}")`;
  const labelled = typed.filter((k) => r.labels.every((l) => k.labels.includes(l)));
  if (labelled.length === 0) return `no Ki running "${spec.type}" has the labels ${r.labels.join(', ')}`;
  if (r.gpus > 0) {
    const fits = labelled.some((k) => k.gpus.filter((g) => g.memoryMiB >= r.gpuMemoryMiB).length >= r.gpus);
    if (!fits) {
      const most = Math.max(0, ...labelled.map((k) => k.gpus.length));
      const mem = Math.max(0, ...labelled.flatMap((k) => k.gpus.map((g) => g.memoryMiB)));
      return `no Ki has ${r.gpus} GPU(s) with ${r.gpuMemoryMiB} MiB each (largest: ${most} GPU(s), ${mem} MiB per GPU)`;
    }
  }
  return null;
}

/**
 * The Kis an An schedules onto, with its own slot and GPU reservations. Heartbeats update what each
 * Ki offers; reservations are counted here so two tasks never race for the last slot or GPU.
 * GPU tasks go to the Ki where they fit best (least GPU memory left over), so large tasks are not
 * fragmented out; CPU tasks follow the policy (least-loaded or least recently used).
 */
export class KiPool {
  readonly #kis = new Map<string, KiSlotState>();
  #quarantined: ReadonlySet<string> = new Set();
  /** Stable ids (or node ids) an operator cordoned or drained, or the circuit breaker benched. */
  #heldOut: ReadonlySet<string> = new Set();
  constructor(private readonly policy: KiPolicy, private readonly now: () => number = Date.now) {}

  /** Adds or refreshes a Ki from its heartbeat; returns true when capacity changed. */
  upsert(hb: Heartbeat): boolean {
    const gpuKey = hb.gpus.map((g) => `${g.uuid}:${g.memoryMiB}`).join(',') + `/${hb.slotsPerGpu ?? 1}`;
    const prev = this.#kis.get(hb.id);
    if (prev) {
      let changed = prev.total !== hb.slots.total;
      prev.key = hb.stableId ?? hb.id;
      prev.total = hb.slots.total;
      prev.types = hb.types;
      prev.labels = hb.labels;
      // A model that became ready can take the tasks waiting for it.
      changed = this.#noteModels(prev, hb) || changed;
      if (prev.gpuKey !== gpuKey) {
        prev.gpus = createGpuAllocator({ devices: hb.gpus, slotsPerGpu: hb.slotsPerGpu ?? 1 });
        prev.gpuKey = gpuKey;
      } else {
        // A GPU that came back can take the tasks waiting for one.
        changed = prev.gpus.updateUsage(hb.gpus) || changed;
      }
      return changed;
    }
    this.#kis.set(hb.id, {
      id: hb.id, key: hb.stableId ?? hb.id, total: hb.slots.total, reserved: 0, lastAssignedMs: 0, types: hb.types, labels: hb.labels,
      gpus: createGpuAllocator({ devices: hb.gpus, slotsPerGpu: hb.slotsPerGpu ?? 1 }), gpuKey,
      models: new Map((hb.models ?? []).map((m) => [m.name, m.state])), modelTypes: hb.modelTypes ?? [], modelSlots: hb.modelSlots ?? 0,
    });
    return true;
  }

  /** Takes a heartbeat's models; true when one became ready (tasks may now be placed on it). */
  #noteModels(k: KiSlotState, hb: Heartbeat): boolean {
    const next = new Map((hb.models ?? []).map((m) => [m.name, m.state] as const));
    let readied = false;
    for (const [name, state] of next) if (state === 'ready' && k.models.get(name) !== 'ready') readied = true;
    k.models = next;
    k.modelTypes = hb.modelTypes ?? [];
    k.modelSlots = hb.modelSlots ?? 0;
    return readied;
  }

  /**
   * Notes that a cold start of `model` was placed on `ki`: until its heartbeat says so, the pool
   * counts the model as loading there, so the next task waits for that load instead of starting
   * another one elsewhere.
   */
  #noteColdStart(k: KiSlotState, model: PlacedModel): void {
    if (!k.models.has(model.name)) k.models.set(model.name, 'loading');
  }

  /** Kis that take no new work until an operator releases them. */
  setQuarantined(ids: ReadonlySet<string>): void {
    this.#quarantined = ids;
  }

  /** Kis (by stable id or node id) that take no new work: cordoned, draining or benched. */
  setHeldOut(keys: ReadonlySet<string>): void {
    this.#heldOut = keys;
  }

  /** The stable identity of a Ki of the pool (its id when unknown). */
  keyOf(id: string): string {
    return this.#kis.get(id)?.key ?? id;
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
    for (const k of this.#kis.values()) if (this.#placeable(k)) n += k.total;
    return n;
  }

  get free(): number {
    let n = 0;
    for (const k of this.#kis.values()) if (this.#placeable(k)) n += Math.max(0, k.total - k.reserved);
    return n;
  }

  /** Whether any Ki of the pool runs this task type. */
  supports(type: string): boolean {
    for (const k of this.#kis.values()) if (k.types.includes(type)) return true;
    return false;
  }

  /** Why no Ki of this group could ever take the task, or null. */
  unfit(spec: Pick<TaskSpec, 'type' | 'requirements'>, model?: PlacedModel): string | null {
    const kis = [...this.#kis.values()].filter((k) => this.#placeable(k)).map((k) => ({ types: k.types, labels: k.labels, modelTypes: [...k.modelTypes], gpus: k.gpus.snapshot().map((g) => ({ ...g, memoryUsedMiB: 0 })) }));
    return unfitReason(spec, kis, model);
  }

  /** Places a task on a Ki of the group and reserves its slot (and GPUs). */
  place(spec: Pick<TaskSpec, 'type' | 'requirements'>, exclude: ReadonlySet<string> = new Set(), model?: PlacedModel): Placement {
    const req: Requirements = spec.requirements;
    let best: { k: KiSlotState; leftoverMiB: number; rank: number } | undefined;
    const groupHolds = model ? anyHolds([...this.#kis.values()].filter((k) => this.#placeable(k)), model.name) : false;
    for (const k of this.#kis.values()) {
      if (k.reserved >= k.total || exclude.has(k.id) || !this.#placeable(k) || !k.types.includes(spec.type)) continue;
      if (!req.labels.every((l) => k.labels.includes(l))) continue;
      // A task on a model prefers where it is ready; see modelRank.
      const rank = model ? modelRank(k, model, groupHolds) : 0;
      if (rank === undefined || (best && rank > best.rank)) continue;
      let leftoverMiB = 0;
      if (req.gpus > 0) {
        const usable = k.gpus.snapshot().filter((g) => g.health !== 'failed' && g.slotsUsed < g.slotsTotal && g.freeMiB >= req.gpuMemoryMiB).map((g) => g.freeMiB - req.gpuMemoryMiB).sort((a, b) => a - b);
        if (usable.length < req.gpus) continue;
        leftoverMiB = usable.slice(0, req.gpus).reduce((a, b) => a + b, 0);
      }
      if (!best || rank < best.rank || (req.gpus > 0 ? leftoverMiB < best.leftoverMiB || (leftoverMiB === best.leftoverMiB && this.#better(k, best.k)) : this.#better(k, best.k))) best = { k, leftoverMiB, rank };
    }
    if (!best) {
      const reason = this.capacity > 0 ? this.unfit(spec, model) : null;
      return reason ? { kind: 'never', reason } : { kind: 'not-now' };
    }
    const reservation = req.gpus > 0 ? best.k.gpus.reserve({ gpus: req.gpus, gpuMemoryMiB: req.gpuMemoryMiB }) : null;
    if (req.gpus > 0 && !reservation) return { kind: 'not-now' };
    best.k.reserved++;
    best.k.lastAssignedMs = this.now();
    if (model) this.#noteColdStart(best.k, model);
    return { kind: 'placed', ki: best.k.id, gpus: reservation ? reservation.devices.map((d) => d.index) : [], reservation };
  }

  /** Picks a Ki with a free slot for a CPU task of this type and reserves the slot; undefined when none. */
  reserve(type: string, exclude: ReadonlySet<string> = new Set()): string | undefined {
    const p = this.place({ type, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] } }, exclude);
    return p.kind === 'placed' ? p.ki : undefined;
  }

  release(id: string, reservation?: GpuReservation | null): void {
    const k = this.#kis.get(id);
    if (!k) return;
    if (k.reserved > 0) k.reserved--;
    if (reservation) k.gpus.release(reservation);
  }

  ids(): string[] {
    return [...this.#kis.keys()];
  }

  /** Neither quarantined nor held out, under its node id or its stable id. */
  #placeable(k: KiSlotState): boolean {
    return !this.#quarantined.has(k.id) && !this.#quarantined.has(k.key) && !this.#heldOut.has(k.key) && !this.#heldOut.has(k.id);
  }

  #better(a: KiSlotState, b: KiSlotState): boolean {
    if (this.policy === 'lru') return a.lastAssignedMs < b.lastAssignedMs;
    const la = a.reserved / a.total;
    const lb = b.reserved / b.total;
    return la < lb || (la === lb && a.lastAssignedMs < b.lastAssignedMs);
  }
}
