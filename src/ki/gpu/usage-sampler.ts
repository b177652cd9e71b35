import { every, type Service } from '../../lifecycle';
import { markGpuFailed, refreshGpuUsage, type GpuDiscoveryOptions } from './discovery';
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
  /**
   * Failed readings in a row after which every GPU is reported failed (out of placement): one
   * slow answer is noise, a driver that stays wedged means the GPUs cannot be trusted.
   * @defaultValue 3
   */
  failuresBeforeUnhealthy?: number;
}

/**
 * Reads the memory use, utilisation and health of this Ki's GPUs from nvidia-smi every
 * `intervalMs`, so that dashboards see them over time and the An's placement sees memory taken
 * outside the platform and GPUs that failed. A failed reading keeps the last values (a wedged
 * driver must not zero a busy GPU); `failuresBeforeUnhealthy` of them in a row mark every GPU
 * failed until nvidia-smi answers again.
 */
export class GpuUsageSampler implements Service {
  readonly name = 'gpu-usage';
  #devices: readonly GpuDevice[];
  #failing = false;
  #failuresInRow = 0;
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
      this.#failuresInRow = 0;
      this.o.onSample(fresh);
    } catch (err) {
      const message = (err as Error).message;
      // Once per outage: nvidia-smi fails the same way every interval.
      if (!this.#failing) this.o.log.warn({ err: message }, 'GPU usage not read; keeping the last values');
      this.#failing = true;
      if (++this.#failuresInRow === (this.o.failuresBeforeUnhealthy ?? 3)) {
        this.o.log.warn({ err: message, readings: this.#failuresInRow }, 'GPUs taken out of placement: nvidia-smi keeps failing');
        this.#devices = this.#devices.map((d) => markGpuFailed(d, message));
        this.o.onSample([...this.#devices]);
      }
    }
  }

  stop(): Promise<void> {
    this.#stopTimer?.();
    return Promise.resolve();
  }
}
