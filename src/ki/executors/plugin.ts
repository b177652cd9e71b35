import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../errors';
import type { Logger } from '../../observability';
import type { Executor } from './types';
import { modelHooksOf, type ModelHooks } from './model-hooks';

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Picks the handler map out of a module: `handlers`, else `default`, else the module itself. */
function handlerMap(mod: unknown): unknown {
  if (!isObject(mod)) return mod;
  if (isObject(mod['handlers'])) return mod['handlers'];
  // An ES module's (or a transpiled one's) `export default { ... }`.
  if (isObject(mod['default'])) return mod['default'];
  return mod;
}

/** The plug-in module of `ki.handlers`, required once (Node's module cache gives later callers the same instance). */
function requirePlugin(modulePath: string): { file: string; mod: unknown } {
  const file = resolve(process.cwd(), modulePath);
  if (!existsSync(file)) throw new ConfigError(`ki.handlers: module ${file} does not exist`);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the path is only known at run time
    return { file, mod: require(file) };
  } catch (err) {
    throw new ConfigError(`ki.handlers: module ${file} failed to load: ${(err as Error).message}`, { cause: err });
  }
}

/** The model hooks of the `ki.handlers` module (`models: { [type]: { load, unload } }`); empty without them. */
export function loadPluginModelHooks(modulePath: string, log: Logger): Map<string, ModelHooks> {
  const { file, mod } = requirePlugin(modulePath);
  return modelHooksOf(mod, file, log);
}

/**
 * Loads task handlers from `ki.handlers`: a JS module (resolved against the working directory)
 * exporting `{ [type]: async (payload, ctx) => result }`, directly or as `default` or
 * `handlers`. Each handler becomes an {@link Executor}; it gets the context as is, and a
 * handler that throws synchronously still yields a rejected promise.
 *
 * @throws {@link ConfigError} naming the path when the file is missing, fails to load, or does
 *   not export a non-empty map of functions.
 */
export function loadPluginHandlers(modulePath: string, log: Logger): Record<string, Executor> {
  const { file, mod } = requirePlugin(modulePath);
  const map = handlerMap(mod);
  if (!isObject(map)) throw new ConfigError(`ki.handlers: module ${file} must export an object of task type -> function`);
  // `models` holds the model hooks (see loadPluginModelHooks), not a task type.
  const entries = Object.entries(map).filter(([key]) => key !== '__esModule' && key !== 'models');
  if (entries.length === 0) throw new ConfigError(`ki.handlers: module ${file} exports no handlers`);
  const wrapped = entries.map(([type, handler]): [string, Executor] => {
    if (typeof handler !== 'function') throw new ConfigError(`ki.handlers: export "${type}" of ${file} is ${typeof handler}, not a function`);
    const fn = handler as (payload: unknown, ctx: unknown) => unknown;
    return [type, async (payload, ctx) => fn(payload, ctx)];
  });
  // fromEntries defines own properties, so a type named `__proto__` cannot touch the prototype.
  const executors: Record<string, Executor> = Object.fromEntries(wrapped);
  log.info({ module: file, types: Object.keys(executors) }, 'loaded task handlers');
  return executors;
}
