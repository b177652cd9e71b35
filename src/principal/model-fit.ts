import type { Heartbeat } from '../cluster';
import type { Requirements } from '../protocol';

/** Whether a Ki, by its heartbeat, could hold a model: its plug-ins load the type, and it has the labels and GPUs the model needs. */
export function kiFitsModel(hb: Pick<Heartbeat, 'modelTypes' | 'labels' | 'gpus'>, model: { type: string; requirements: Requirements }): boolean {
  const r = model.requirements;
  if (!hb.modelTypes?.includes(model.type)) return false;
  if (!r.labels.every((l) => hb.labels.includes(l))) return false;
  if (r.gpus === 0) return true;
  return hb.gpus.filter((g) => g.health !== 'failed' && g.memoryMiB >= r.gpuMemoryMiB).length >= r.gpus;
}
