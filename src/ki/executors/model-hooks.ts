import { ConfigError } from '../../errors';
import type { Logger } from '../../observability';
import type { GpuDevice } from '../gpu';
import type { ModelDescriptor } from '../../protocol';

/** What a load hook gets besides the model. */
export interface ModelLoadContext {
  /** The Ki's GPUs: a resident model is not tied to one task's reservation. */
  readonly gpus: readonly GpuDevice[];
  readonly log: Logger;
}

/**
 * A plug-in's hooks for one model type: `load` returns the handle tasks naming the model get as
 * `ctx.model`; `unload` (optional) frees it. Exported as `models: { [type]: { load, unload } }`
 * beside the task handlers.
 */
export interface ModelHooks {
  load(model: ModelDescriptor, ctx: ModelLoadContext): unknown;
  unload?(handle: unknown, model: ModelDescriptor): unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The `models` export of a plug-in module (top level or under `default`), checked: each entry an
 * object with a `load` function and, if present, an `unload` function. A module without one
 * loads no models.
 * @throws {@link ConfigError} naming the entry at fault.
 */
export function modelHooksOf(mod: unknown, file: string, log: Logger): Map<string, ModelHooks> {
  const raw = isObject(mod) ? (mod['models'] ?? (isObject(mod['default']) ? mod['default']['models'] : undefined)) : undefined;
  const out = new Map<string, ModelHooks>();
  if (raw === undefined) return out;
  if (!isObject(raw)) throw new ConfigError(`ki.handlers: export "models" of ${file} must be an object of model type -> { load, unload }`);
  for (const [type, hooks] of Object.entries(raw)) {
    if (!isObject(hooks) || typeof hooks['load'] !== 'function') throw new ConfigError(`ki.handlers: models.${type} of ${file} needs a load function`);
    if (hooks['unload'] !== undefined && typeof hooks['unload'] !== 'function') throw new ConfigError(`ki.handlers: models.${type}.unload of ${file} is not a function`);
    const load = hooks['load'] as ModelHooks['load'];
    const unload = hooks['unload'] as ModelHooks['unload'];
    out.set(type, { load: (m, ctx) => load.call(hooks, m, ctx), ...(unload ? { unload: (h, m) => unload.call(hooks, h, m) } : {}) });
  }
  log.info({ module: file, modelTypes: [...out.keys()] }, 'loaded model hooks');
  return out;
}
