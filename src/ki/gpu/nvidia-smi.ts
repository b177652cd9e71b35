import { execFile } from 'node:child_process';
import type { GpuDevice } from './types';

/** Arguments of the one nvidia-smi query a Ki runs, for discovery and for usage refreshes. */
export const NVIDIA_SMI_QUERY_ARGS: readonly string[] = [
  '--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu,ecc.errors.uncorrected.volatile.total',
  '--format=csv,noheader,nounits',
];

/** The same query without the ECC count, for a driver that does not know that field. */
export const NVIDIA_SMI_QUERY_ARGS_NO_ECC: readonly string[] = [
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
    execFile('nvidia-smi', [...args], { timeout: timeoutMs, maxBuffer: 1024 * 1024, windowsHide: true }, (err, stdout, stderr) => {
      // nvidia-smi says why it failed on stdout: keep both streams on the error for the message.
      if (err) reject(Object.assign(err instanceof Error ? err : new Error(String(err)), { stdout, stderr }));
      else resolve(stdout);
    });
  });

/** A value nvidia-smi prints when a GPU cannot report a field (e.g. utilization under MIG). */
function isUnavailable(value: string): boolean {
  return /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions|GPU requires reset)\]?$/i.test(value);
}

/**
 * A value that says the GPU itself is in trouble, not merely that it cannot report a field: the
 * driver lost it or it needs a reset. Such a GPU must not take work.
 */
function faultOf(value: string): string | undefined {
  const m = /^\[?(Unknown Error|GPU requires reset|GPU is lost)\]?$/i.exec(value.trim());
  return m ? `nvidia-smi reports "${m[1]}"` : undefined;
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
 * Accepts 7 fields per line (uncorrected ECC errors last), 6 (utilization, no ECC count) or 5
 * (neither); a header line and units are skipped, so `--format=csv` output parses too.
 * Unavailable values (`[N/A]`, `[Not Supported]`) become 0 for memory and `undefined` for
 * utilization and ECC (a card without ECC): a GPU whose total memory is unknown still takes tasks
 * that ask for no GPU memory. A field that reads `[GPU requires reset]` or `[Unknown Error]`
 * marks the GPU failed (`health`), which takes it out of placement.
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
    if (fields.length < 5 || fields.length > 7) {
      throw new Error(`nvidia-smi line ${lineNo}: expected 5 to 7 comma-separated fields, got ${fields.length}`);
    }
    const [indexText = '', uuid = '', name = '', totalText = '', usedText = '', utilText, eccText] = fields;
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
    const ecc = eccText === undefined ? undefined : parseCount(eccText, 'ecc.errors.uncorrected.volatile.total', lineNo);
    if (ecc !== undefined) device.eccUncorrected = ecc;
    const fault = fields.slice(3).map(faultOf).find((f) => f !== undefined)
      // An uncorrectable memory error kills the process that hit it and may leave bad memory
      // mapped until the GPU is reset: new work belongs elsewhere until then.
      ?? (ecc ? `${ecc} uncorrected ECC error${ecc === 1 ? '' : 's'} since the driver loaded` : undefined);
    if (fault) Object.assign(device, { health: 'failed', healthReason: fault });
    devices.push(device);
  });
  return devices;
}
