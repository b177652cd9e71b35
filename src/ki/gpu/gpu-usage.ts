import type { Metrics } from '../../observability';
import type { GpuDevice } from './types';

/** The per-GPU gauges {@link GpuUsage} sets. */
export type GpuGauges = Pick<Metrics, 'kiGpuMemoryTotal' | 'kiGpuMemoryUsed' | 'kiGpuUtilization' | 'kiGpuTasks' | 'kiGpuHealthy'>;

/**
 * This Ki's GPUs with their latest reading (nvidia-smi), kept in one place so that the heartbeat,
 * an attempt's execution context and the gauges all read the same devices.
 */
export class GpuUsage {
  #devices: GpuDevice[];

  constructor(devices: GpuDevice[], private readonly gauges: GpuGauges) {
    this.#devices = devices;
  }

  get devices(): readonly GpuDevice[] {
    return this.#devices;
  }

  /** The devices of `indexes`, as an attempt holding them sees them. */
  of(indexes: readonly number[]): GpuDevice[] {
    return this.#devices.filter((g) => indexes.includes(g.index));
  }

  /** A fresh reading replaces the last one. */
  update(devices: GpuDevice[]): void {
    this.#devices = devices;
  }

  /** Sets each GPU's gauges; `tasksOn` counts the attempts running on a GPU index. */
  report(tasksOn: (index: number) => number): void {
    for (const g of this.#devices) {
      const labels = { gpu: String(g.index), uuid: g.uuid };
      this.gauges.kiGpuMemoryTotal.set(labels, g.memoryMiB);
      this.gauges.kiGpuMemoryUsed.set(labels, g.memoryUsedMiB);
      // A GPU that cannot report it (MIG, [N/A]) has no series rather than a made-up 0.
      if (g.utilizationPct !== undefined) this.gauges.kiGpuUtilization.set(labels, g.utilizationPct / 100);
      else this.gauges.kiGpuUtilization.remove(labels);
      this.gauges.kiGpuTasks.set(labels, tasksOn(g.index));
      this.gauges.kiGpuHealthy.set(labels, g.health === 'failed' ? 0 : 1);
    }
  }
}
