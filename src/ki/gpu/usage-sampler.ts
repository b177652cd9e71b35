import { every, type Service } from '../../lifecycle';
import { refreshGpuUsage, type GpuDiscoveryOptions } from './discovery';
import type { GpuDevice } from './types';

/** Where the sampler says that nvidia-smi stopped or resumed answering (a pino logger fits). */
export interface GpuUsageLog {
  warn(obj: object, msg: string): void;
  info(msg: string): void;
}

/** What {@link GpuUsageSampler} needs. */
export interface GpuUsageSamplerOptions {
  /** The GPUs nvidia-smi found at start-up. */
  devices: readonly GpuDevice[];
  /** `ki.gpuRefreshMs`: how often memory use and utilisation are read again. */
  intervalMs: number;
  log: GpuUsageLog;
  /** Receives every fresh reading (heartbeats and the GPU metrics follow it). */
  onSample: (devices: GpuDevice[]) => void;
  /** @defaultValue nvidia-smi itself */
  discovery?: GpuDiscoveryOptions;
}

/**
 * Reads the memory use and utilisation of this Ki's GPUs from nvidia-smi every `intervalMs`, so
 * that dashboards see them over time and the An's placement sees memory taken outside the
 * platform. A failed reading keeps the last values: a wedged driver must not zero a busy GPU.
 */
export class GpuUsageSampler implements Service {
  readonly name = 'gpu-usage';
  #devices: readonly GpuDevice[];
  #failing = false;
  #stopTimer?: () => void;

  constructor(private readonly o: GpuUsageSamplerOptions) {
    this.#devices = o.devices;
  }

  start(): Promise<void> {
    this.#stopTimer ??= every(this.o.intervalMs, () => this.sample(), () => undefined);
    return Promise.resolve();
  }

  /** One reading; never rejects. */
  async sample(): Promise<void> {
    try {
      const fresh = await refreshGpuUsage(this.#devices, this.o.discovery);
      this.#devices = fresh;
      if (this.#failing) this.o.log.info('GPU usage readable again');
      this.#failing = false;
      this.o.onSample(fresh);
    } catch (err) {
      // Once per outage: nvidia-smi fails the same way every interval.
      if (!this.#failing) this.o.log.warn({ err: (err as Error).message }, 'GPU usage not read; keeping the last values');
      this.#failing = true;
    }
  }

  stop(): Promise<void> {
    this.#stopTimer?.();
    return Promise.resolve();
  }
}
