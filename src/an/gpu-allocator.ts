import { ConfigError } from '../errors';
import type { GpuDevice } from '../protocol';

/** What a task asks of one Ki's GPUs (the GPU part of `task.requirements`). */
export interface GpuRequest {
  /** Number of distinct GPUs. 0 = CPU-only (gets an empty reservation). */
  gpus: number;
  /** Memory needed on each of those GPUs. @defaultValue 0 */
  gpuMemoryMiB?: number;
}

/** GPUs held for one task until {@link GpuAllocator.release}. */
export interface GpuReservation {
  readonly id: number;
  readonly devices: readonly GpuDevice[];
  /** Memory held on each device of the reservation. */
  readonly memoryMiBPerGpu: number;
}

/** One GPU's state as advertised in heartbeats. */
export interface GpuSlotSnapshot {
  index: number;
  uuid: string;
  name: string;
  memoryMiB: number;
  /** Last observed use (nvidia-smi), including other processes. */
  memoryUsedMiB: number;
  /** Sum of the memory reserved by running tasks. */
  reservedMiB: number;
  /** What a new reservation can still get: total minus the larger of reserved and observed. */
  freeMiB: number;
  slotsUsed: number;
  slotsTotal: number;
  /** `failed`: the Ki reported the GPU failed; it takes no new reservation. */
  health: 'ok' | 'failed';
  healthReason?: string;
}

/** Construction options of {@link GpuAllocator}. */
export interface GpuAllocatorOptions {
  devices: readonly GpuDevice[];
  /** Concurrent tasks per GPU (`ki.slotsPerGpu`); at least 1. */
  slotsPerGpu: number;
}

interface GpuState {
  device: GpuDevice;
  slotsUsed: number;
  reservedMiB: number;
}

function checkRequest(request: GpuRequest): { gpus: number; memoryMiB: number } {
  const memoryMiB = request.gpuMemoryMiB ?? 0;
  if (!Number.isInteger(request.gpus) || request.gpus < 0) throw new RangeError(`gpus must be a non-negative integer, got ${request.gpus}`);
  if (!Number.isFinite(memoryMiB) || memoryMiB < 0) throw new RangeError(`gpuMemoryMiB must be a non-negative number, got ${memoryMiB}`);
  return { gpus: request.gpus, memoryMiB };
}

/**
 * Hands out the GPU slots and GPU memory of one Ki, as the An that places tasks on it counts them
 * (from the Ki's heartbeats, see `KiPool`). Best fit: among the GPUs with a free slot and enough
 * free memory, the ones with the least free memory are taken, so large GPUs stay free for the
 * tasks that need them. Not thread-safe by design: the An reserves from one event loop.
 */
export class GpuAllocator {
  readonly #gpus: GpuState[];
  readonly #slotsPerGpu: number;
  readonly #live = new Map<number, GpuReservation>();
  #nextId = 1;

  constructor(options: GpuAllocatorOptions) {
    if (!Number.isInteger(options.slotsPerGpu) || options.slotsPerGpu < 1) {
      throw new ConfigError(`ki.slotsPerGpu must be at least 1, got ${options.slotsPerGpu}`);
    }
    this.#slotsPerGpu = options.slotsPerGpu;
    this.#gpus = options.devices.map((device) => ({ device: { ...device }, slotsUsed: 0, reservedMiB: 0 }));
  }

  // Observed use counts too: memory taken by a process outside the platform (or a task using
  // more than it asked for) is not there for the next task, which would otherwise die of OOM.
  #freeMiB(g: GpuState): number {
    return Math.max(0, g.device.memoryMiB - Math.max(g.reservedMiB, g.device.memoryUsedMiB));
  }

  /**
   * Reserves `request.gpus` distinct GPUs with `gpuMemoryMiB` free on each, or returns `null`
   * when that does not fit now (the caller waits for a {@link release}).
   * @throws RangeError for a negative or fractional request.
   */
  reserve(request: GpuRequest): GpuReservation | null {
    const { gpus, memoryMiB } = checkRequest(request);
    if (gpus === 0) return { id: 0, devices: [], memoryMiBPerGpu: 0 };
    const chosen = this.#gpus
      .filter((g) => g.device.health !== 'failed' && g.slotsUsed < this.#slotsPerGpu && this.#freeMiB(g) >= memoryMiB)
      .sort((a, b) => this.#freeMiB(a) - this.#freeMiB(b) || a.device.index - b.device.index)
      .slice(0, gpus);
    if (chosen.length < gpus) return null;
    for (const g of chosen) {
      g.slotsUsed += 1;
      g.reservedMiB += memoryMiB;
    }
    const reservation: GpuReservation = { id: this.#nextId++, devices: chosen.map((g) => ({ ...g.device })), memoryMiBPerGpu: memoryMiB };
    this.#live.set(reservation.id, reservation);
    return reservation;
  }

  /** Gives a reservation back. Idempotent: returns false when it was already released. */
  release(reservation: GpuReservation): boolean {
    if (!this.#live.delete(reservation.id)) return false;
    for (const d of reservation.devices) {
      const g = this.#gpus.find((s) => s.device.uuid === d.uuid);
      if (!g) continue;
      g.slotsUsed = Math.max(0, g.slotsUsed - 1);
      g.reservedMiB = Math.max(0, g.reservedMiB - reservation.memoryMiBPerGpu);
    }
    return true;
  }

  /**
   * Whether the request could fit on an idle Ki with these GPUs. A task for which this is
   * false would wait forever here, so the Ki refuses it instead.
   */
  canEverFit(request: GpuRequest): boolean {
    const { gpus, memoryMiB } = checkRequest(request);
    return this.#gpus.filter((g) => g.device.memoryMiB >= memoryMiB).length >= gpus;
  }

  /**
   * Takes fresh observed memory use and health (from the Ki's heartbeat); GPUs not listed keep
   * theirs. Returns true when a GPU failed or came back, which changes what can be placed.
   */
  updateUsage(devices: readonly GpuDevice[]): boolean {
    let healthChanged = false;
    for (const d of devices) {
      const g = this.#gpus.find((s) => s.device.uuid === d.uuid);
      if (!g) continue;
      g.device.memoryUsedMiB = d.memoryUsedMiB;
      if (d.utilizationPct !== undefined) g.device.utilizationPct = d.utilizationPct;
      // A Ki that does not report health (an older version) keeps its GPUs in placement.
      healthChanged ||= (g.device.health ?? 'ok') !== (d.health ?? 'ok');
      g.device.health = d.health ?? 'ok';
      if (d.healthReason !== undefined) g.device.healthReason = d.healthReason;
      else delete g.device.healthReason;
    }
    return healthChanged;
  }

  /** Per-GPU slots and memory, for heartbeats and `/nodes`. */
  snapshot(): GpuSlotSnapshot[] {
    return this.#gpus.map((g) => ({
      index: g.device.index,
      uuid: g.device.uuid,
      name: g.device.name,
      memoryMiB: g.device.memoryMiB,
      memoryUsedMiB: g.device.memoryUsedMiB,
      reservedMiB: g.reservedMiB,
      freeMiB: this.#freeMiB(g),
      slotsUsed: g.slotsUsed,
      slotsTotal: this.#slotsPerGpu,
      health: g.device.health ?? 'ok',
      ...(g.device.healthReason !== undefined ? { healthReason: g.device.healthReason } : {}),
    }));
  }
}

/** Builds a {@link GpuAllocator}; see {@link GpuAllocatorOptions}. */
export function createGpuAllocator(options: GpuAllocatorOptions): GpuAllocator {
  return new GpuAllocator(options);
}
