import { z } from 'zod';
import { ConfigError } from '../../errors';
import type { GpuDevice } from './types';

/** What `ki.gpus` (`KI_GPUS`) asks for, once parsed. */
export type GpuSetting =
  | { kind: 'auto' }
  | { kind: 'none' }
  /** Fake GPUs, for machines without any (tests, demos, scheduling experiments). */
  | { kind: 'list'; devices: GpuDevice[] };

// Strict objects: a typo such as `memoryMb` must fail start-up, not silently become a 0 MiB GPU.
const fakeGpuSchema = z.strictObject({
  index: z.number().int().nonnegative(),
  uuid: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  memoryMiB: z.number().int().positive(),
  memoryUsedMiB: z.number().int().nonnegative().optional(),
  utilizationPct: z.number().min(0).max(100).optional(),
});
const fakeGpuListSchema = z.array(fakeGpuSchema);

function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

/**
 * Parses the `ki.gpus` setting: `auto` (ask nvidia-smi), `none`, or a JSON list of fake GPUs
 * such as `[{"index":0,"uuid":"GPU-fake-0","name":"Fake A100","memoryMiB":40960}]`.
 * `uuid` defaults to `GPU-fake-<index>` and `name` to `Fake GPU <index>`; `memoryUsedMiB` and
 * `utilizationPct` (0 to 100, unknown when left out) are what the fake GPU reports.
 *
 * @throws {@link ConfigError} naming `ki.gpus` and the offending field.
 */
export function parseGpuSetting(value: string): GpuSetting {
  const text = value.trim();
  const lower = text.toLowerCase();
  if (lower === 'auto') return { kind: 'auto' };
  if (lower === 'none') return { kind: 'none' };
  if (!text.startsWith('[')) {
    throw new ConfigError(`ki.gpus must be "auto", "none" or a JSON list of GPUs, got "${text.slice(0, 80)}"`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`ki.gpus is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = fakeGpuListSchema.safeParse(raw);
  if (!parsed.success) {
    // Every problem at once: a missing `memoryMiB` is usually explained by a misspelt key beside it.
    const problems = parsed.error.issues.slice(0, 5).map((issue) => `ki.gpus${issuePath(issue.path)}: ${issue.message}`);
    throw new ConfigError(problems.join('; '), { cause: parsed.error });
  }
  const devices = parsed.data.map((g) => ({
    index: g.index,
    uuid: g.uuid ?? `GPU-fake-${g.index}`,
    name: g.name ?? `Fake GPU ${g.index}`,
    memoryMiB: g.memoryMiB,
    memoryUsedMiB: g.memoryUsedMiB ?? 0,
    ...(g.utilizationPct !== undefined ? { utilizationPct: g.utilizationPct } : {}),
  }));
  // Duplicates would let the allocator hand the same physical slot out twice.
  const seen = new Set<string>();
  for (const d of devices) {
    for (const key of [`index ${d.index}`, `uuid ${d.uuid}`]) {
      if (seen.has(key)) throw new ConfigError(`ki.gpus: ${key} appears more than once`);
      seen.add(key);
    }
  }
  return { kind: 'list', devices };
}
