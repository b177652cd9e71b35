export type { GpuDevice } from './types';
export { parseNvidiaSmiCsv, runNvidiaSmi, NVIDIA_SMI_QUERY_ARGS, NVIDIA_SMI_TIMEOUT_MS, type NvidiaSmiRunner } from './nvidia-smi';
export { parseGpuSetting, type GpuSetting } from './gpu-setting';
export { discoverGpus, refreshGpuUsage, describeNvidiaSmiFailure, type GpuDiscovery, type GpuDiscoveryOptions } from './discovery';
export { formatProbe } from './probe';
export { GpuUsageSampler, type GpuUsageSamplerOptions } from './usage-sampler';
