import { execFile } from 'node:child_process';
import type { GpuDevice } from './types';

/** Arguments of the one nvidia-smi query a Ki runs, for discovery and for usage refreshes. */
export const NVIDIA_SMI_QUERY_ARGS: readonly string[] = [
  '--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu',
  '--format=csv,noheader,nounits',
];

/**
 * Runs nvidia-smi with the given arguments and resolves its stdout. Rejects with the
 * `execFile` error (its `code` is `'ENOENT'` when nvidia-smi is not installed).
 * Injected in tests, so discovery can be exercised on machines without a GPU.
 */
export type NvidiaSmiRunner = (args: readonly string[], timeoutMs: number) => Promise<string>;

/**
 * How long nvidia-smi may take. It can hang for many seconds on a wedged driver; a Ki must
 * still start (without GPUs) rather than block its start-up on it.
 * @defaultValue 5000
 */
export const NVIDIA_SMI_TIMEOUT_MS = 5000;

/** The production {@link NvidiaSmiRunner}: `execFile('nvidia-smi', ...)`, no shell. */
export const runNvidiaSmi: NvidiaSmiRunner = (args, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile('nvidia-smi', [...args], { timeout: timeoutMs, maxBuffer: 1024 * 1024, windowsHide: true }, (err, stdout) => {
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(stdout);
    });
  });

/** A value nvidia-smi prints when a GPU cannot report a field (e.g. utilization under MIG). */
function isUnavailable(value: string): boolean {
  return /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions|GPU requires reset)\]?$/i.test(value);
}

/** Strips the unit a `--format=csv` (without `nounits`) run appends, so both forms parse. */
function stripUnit(value: string): string {
  return value.replace(/\s*(MiB|%)$/i, '');
}

function parseCount(value: string, field: string, lineNo: number): number | undefined {
  const bare = stripUnit(value);
  if (isUnavailable(bare)) return undefined;
  if (!/^\d+$/.test(bare)) throw new Error(`nvidia-smi line ${lineNo}: ${field} "${value}" is not a number`);
  return Number(bare);
}

/**
 * Parses the output of `nvidia-smi` run with {@link NVIDIA_SMI_QUERY_ARGS}.
 *
 * Accepts 6 fields per line (utilization included) or 5 (utilization not queried); a header
 * line and units are skipped, so `--format=csv` output parses too. Unavailable values
 * (`[N/A]`, `[Not Supported]`) become 0 for memory and `undefined` for utilization: a GPU
 * whose total memory is unknown still takes tasks that ask for no GPU memory.
 *
 * @throws Error naming the line when a line has the wrong number of fields or a bad index.
 */
export function parseNvidiaSmiCsv(text: string): GpuDevice[] {
  const devices: GpuDevice[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const lineNo = i + 1;
    if (line === '' || /^index\s*,/i.test(line)) return;
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length !== 5 && fields.length !== 6) {
      throw new Error(`nvidia-smi line ${lineNo}: expected 5 or 6 comma-separated fields, got ${fields.length}`);
    }
    const [indexText = '', uuid = '', name = '', totalText = '', usedText = '', utilText] = fields;
    const index = parseCount(indexText, 'index', lineNo);
    if (index === undefined) throw new Error(`nvidia-smi line ${lineNo}: index is unavailable`);
    if (uuid === '' || isUnavailable(uuid)) throw new Error(`nvidia-smi line ${lineNo}: uuid is missing`);
    const device: GpuDevice = {
      index,
      uuid,
      name: isUnavailable(name) ? 'unknown' : name,
      memoryMiB: parseCount(totalText, 'memory.total', lineNo) ?? 0,
      memoryUsedMiB: parseCount(usedText, 'memory.used', lineNo) ?? 0,
    };
    const utilization = utilText === undefined ? undefined : parseCount(utilText, 'utilization.gpu', lineNo);
    if (utilization !== undefined) device.utilizationPct = utilization;
    devices.push(device);
  });
  return devices;
}
