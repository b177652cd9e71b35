/** One GPU as discovered on a Ki and advertised in its heartbeats. */
export interface GpuDevice {
  index: number;
  uuid: string;
  name: string;
  memoryMiB: number;
  memoryUsedMiB: number;
  utilizationPct?: number;
}
