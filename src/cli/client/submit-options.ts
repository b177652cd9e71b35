import type { SubmitBody } from './api-types';
import { intOption, UsageError, type ClientArgs } from './args';

/**
 * `--gpus N`, `--gpu-memory-mib N` and `--labels a=b,c` as a submission's `requirements`;
 * undefined when none is given (the server's defaults apply).
 */
export function requirementsOf(args: ClientArgs): SubmitBody['requirements'] {
  const gpus = intOption(args, 'gpus', 0, 64);
  const gpuMemoryMiB = intOption(args, 'gpu-memory-mib', 0, 16 * 1024 * 1024);
  const rawLabels = args.options.get('labels');
  const labels = rawLabels?.split(',').map((l) => l.trim()).filter((l) => l !== '');
  if (labels?.some((l) => l.length > 64)) throw new UsageError('--labels: each label is at most 64 characters');
  if (labels && labels.length > 32) throw new UsageError('--labels: at most 32 labels');
  if (gpus === undefined && gpuMemoryMiB === undefined && labels === undefined) return undefined;
  return { ...(gpus !== undefined ? { gpus } : {}), ...(gpuMemoryMiB !== undefined ? { gpuMemoryMiB } : {}), ...(labels ? { labels } : {}) };
}

/**
 * `--redundancy R` or `R:Q`: run the task on R Kis and accept a result Q of them agree on; Q
 * defaults to a majority of R.
 */
export function redundancyOf(args: ClientArgs): SubmitBody['redundancy'] {
  const raw = args.options.get('redundancy')?.trim();
  if (raw === undefined) return undefined;
  const m = /^(\d+)(?::(\d+))?$/.exec(raw);
  const replicas = Number(m?.[1]);
  const quorum = m?.[2] !== undefined ? Number(m[2]) : Math.floor(replicas / 2) + 1;
  if (!m || replicas < 1 || replicas > 16 || quorum < 1 || quorum > replicas) throw new UsageError('--redundancy must be R or R:Q with 1 <= Q <= R <= 16 (e.g. 3 or 3:2)');
  return { replicas, quorum };
}
