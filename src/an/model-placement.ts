import type { ModelState } from '../protocol';

/** What the pool knows of a Ki's models, from its heartbeats. */
export interface KiModels {
  /** Resident models by name, with their state. */
  models: ReadonlyMap<string, ModelState>;
  /** The model types its plug-ins load. */
  modelTypes: readonly string[];
  /** How many models it holds at once. */
  modelSlots: number;
}

/** A task's model as placement sees it. */
export interface PlacedModel {
  name: string;
  type: string;
}

/**
 * How good a Ki is for a task that names a model, lower is better; undefined when it must not
 * take the task now:
 * - 0: the model is ready there;
 * - 1: it is loading there (the task waits for that load rather than starting another);
 * - 2: a cold start on a free model slot;
 * - 3: a cold start that unloads an idle model: only while no Ki of the group holds the model
 *   at all, so busy replicas are waited for rather than other models evicted (which would undo
 *   the leader's assignment of replicas and thrash).
 */
export function modelRank(k: KiModels, model: PlacedModel, groupHoldsModel: boolean): number | undefined {
  const state = k.models.get(model.name);
  if (state === 'ready') return 0;
  if (state === 'loading') return 1;
  if (!k.modelTypes.includes(model.type) || k.modelSlots === 0) return undefined;
  let held = 0;
  for (const s of k.models.values()) if (s !== 'unloading') held++;
  if (held < k.modelSlots) return 2;
  return groupHoldsModel ? undefined : 3;
}

/** Whether any of the Kis holds the model ready or loading. */
export function anyHolds(kis: Iterable<KiModels>, name: string): boolean {
  for (const k of kis) {
    const s = k.models.get(name);
    if (s === 'ready' || s === 'loading') return true;
  }
  return false;
}
