import type { GpuDevice } from './types';

const HEADERS = ['INDEX', 'NAME', 'UUID', 'MEMORY USED / TOTAL (MiB)'] as const;

/**
 * The text `node dist/main.js ki --probe` prints: one row per GPU with index, name, uuid and
 * memory used / total, columns aligned. With no GPUs it says so, with `reason` when given
 * (e.g. the discovery reason), so an operator sees why a Ki advertises none.
 */
export function formatProbe(devices: readonly GpuDevice[], reason?: string): string {
  if (devices.length === 0) return reason ? `no GPUs found: ${reason}\n` : 'no GPUs found\n';
  const rows: string[][] = [
    [...HEADERS],
    ...devices.map((d) => [String(d.index), d.name, d.uuid, `${d.memoryUsedMiB} / ${d.memoryMiB}`]),
  ];
  const widths = HEADERS.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  const lines = rows.map((r) =>
    r
      .map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
      .join('  '),
  );
  const noun = devices.length === 1 ? 'GPU' : 'GPUs';
  return `${lines.join('\n')}\n${devices.length} ${noun}\n`;
}
