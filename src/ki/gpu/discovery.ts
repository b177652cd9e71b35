import { parseGpuSetting, type GpuSetting } from './gpu-setting';
import { NVIDIA_SMI_QUERY_ARGS, NVIDIA_SMI_QUERY_ARGS_NO_ECC, NVIDIA_SMI_TIMEOUT_MS, parseNvidiaSmiCsv, runNvidiaSmi, type NvidiaSmiRunner } from './nvidia-smi';
import type { GpuDevice } from './types';

/** Collaborators of discovery; all optional. */
export interface GpuDiscoveryOptions {
  /** @defaultValue {@link runNvidiaSmi} */
  runNvidiaSmi?: NvidiaSmiRunner;
  /** @defaultValue {@link NVIDIA_SMI_TIMEOUT_MS} */
  timeoutMs?: number;
}

/** What a Ki found. `reason` says why `devices` is empty, for the start-up log and `--probe`. */
export interface GpuDiscovery {
  devices: GpuDevice[];
  /** Where the devices came from: nvidia-smi (`auto`), nothing (`none`), or the config (`list`). */
  source: GpuSetting['kind'];
  reason?: string;
}

function firstLine(text: unknown): string {
  return typeof text === 'string' ? (text.trim().split(/\r?\n/)[0] ?? '').trim() : '';
}

/** Turns a failed nvidia-smi run into one line an operator can act on. */
export function describeNvidiaSmiFailure(err: unknown): string {
  const e = err as { code?: unknown; killed?: boolean; signal?: unknown; stdout?: unknown; stderr?: unknown; message?: unknown };
  if (e?.code === 'ENOENT') return 'nvidia-smi is not installed (not found on PATH)';
  if (e?.code === 'EACCES') return 'nvidia-smi is not executable by this user';
  if (e?.killed || typeof e?.signal === 'string') return `nvidia-smi did not answer in time (killed by ${String(e.signal ?? 'timeout')})`;
  // nvidia-smi explains driver problems on stdout ("NVIDIA-SMI has failed because ..."), not stderr.
  const detail = firstLine(e?.stderr) || firstLine(e?.stdout) || firstLine(e?.message) || String(err);
  return `nvidia-smi failed: ${detail}`;
}

/** nvidia-smi's answer to a field its driver does not know ("... is not a valid field to query"). */
function isUnknownField(err: unknown): boolean {
  const e = err as { stdout?: unknown; stderr?: unknown };
  return /not a valid field/i.test(`${String(e?.stdout ?? '')} ${String(e?.stderr ?? '')}`);
}

async function queryNvidiaSmi(options: GpuDiscoveryOptions): Promise<GpuDevice[]> {
  const run = options.runNvidiaSmi ?? runNvidiaSmi;
  const timeoutMs = options.timeoutMs ?? NVIDIA_SMI_TIMEOUT_MS;
  let stdout: string;
  try {
    // An older driver that cannot report ECC counts still reports memory and utilisation.
    stdout = await run(NVIDIA_SMI_QUERY_ARGS, timeoutMs).catch((err: unknown) => {
      if (isUnknownField(err)) return run(NVIDIA_SMI_QUERY_ARGS_NO_ECC, timeoutMs);
      throw err;
    });
  } catch (err) {
    throw new Error(describeNvidiaSmiFailure(err), { cause: err });
  }
  try {
    return parseNvidiaSmiCsv(stdout);
  } catch (err) {
    throw new Error(`could not parse nvidia-smi output: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Finds the GPUs this Ki may use. `auto` runs nvidia-smi; a machine without GPUs (no
 * nvidia-smi, no driver, a timeout) gets `[]` and a `reason`, never an exception, because a
 * CPU-only Ki is a normal member of the cluster.
 *
 * @param setting - the `ki.gpus` value, raw or parsed by {@link parseGpuSetting}.
 * @throws ConfigError only for a malformed raw setting.
 */
export async function discoverGpus(setting: string | GpuSetting, options: GpuDiscoveryOptions = {}): Promise<GpuDiscovery> {
  const parsed = typeof setting === 'string' ? parseGpuSetting(setting) : setting;
  switch (parsed.kind) {
    case 'none':
      return { devices: [], source: 'none', reason: 'ki.gpus is "none"' };
    case 'list':
      return { devices: parsed.devices.map((d) => ({ ...d })), source: 'list' };
    case 'auto': {
      try {
        const devices = await queryNvidiaSmi(options);
        return devices.length > 0 ? { devices, source: 'auto' } : { devices, source: 'auto', reason: 'nvidia-smi lists no GPUs' };
      } catch (err) {
        return { devices: [], source: 'auto', reason: (err as Error).message };
      }
    }
  }
}

/**
 * Reads current memory use and utilization of `devices` from nvidia-smi and returns fresh
 * copies (static fields kept; a GPU nvidia-smi no longer lists keeps its last values). The
 * caller schedules it (e.g. each heartbeat) and keeps the previous list when it rejects.
 * Only meaningful for devices found by `auto`: fake GPUs have nothing to refresh.
 *
 * @throws Error whose message says why nvidia-smi could not be read.
 */
export async function refreshGpuUsage(devices: readonly GpuDevice[], options: GpuDiscoveryOptions = {}): Promise<GpuDevice[]> {
  const fresh = new Map((await queryNvidiaSmi(options)).map((d) => [d.uuid, d]));
  return devices.map((d) => {
    const now = fresh.get(d.uuid);
    // A GPU that vanishes from the listing has usually fallen off the bus (Xid 79).
    if (!now) return markGpuFailed(d, 'missing from nvidia-smi\'s listing (fallen off the bus?)');
    const next: GpuDevice = { ...d, memoryUsedMiB: now.memoryUsedMiB };
    copyOptional(next, now, 'utilizationPct');
    copyOptional(next, now, 'eccUncorrected');
    copyOptional(next, now, 'healthReason');
    next.health = now.health ?? 'ok';
    return next;
  });
}

function copyOptional<K extends 'utilizationPct' | 'eccUncorrected' | 'healthReason'>(to: GpuDevice, from: GpuDevice, key: K): void {
  if (from[key] !== undefined) to[key] = from[key];
  else delete to[key];
}

/** The device, marked out of placement with the reason an operator sees in `/nodes`. */
export function markGpuFailed(device: GpuDevice, reason: string): GpuDevice {
  return { ...device, health: 'failed', healthReason: reason.slice(0, 256) };
}
