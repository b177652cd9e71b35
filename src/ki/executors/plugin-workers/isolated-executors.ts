import type { ExecutionContext, Executor } from '../types';
import type { PluginWorkerPool } from './worker-pool';

/**
 * Which plug-in tasks run in a worker process (`ki.pluginIsolation`): `gpu`, those that reserved
 * GPUs; `all`, CPU tasks too (in one worker with no GPU visible); `none`, none.
 */
export type PluginIsolation = 'gpu' | 'all' | 'none';

/**
 * Whether a call runs in a worker. A task that names a model stays in the Ki's process, where
 * the model's load hook ran and its handle lives: a handle cannot cross to another process.
 */
export function runsInWorker(isolation: PluginIsolation, ctx: Pick<ExecutionContext, 'gpus' | 'model'>): boolean {
  if (isolation === 'none' || ctx.model !== undefined) return false;
  return isolation === 'all' || ctx.gpus.length > 0;
}

/**
 * The plug-in's handlers, each sending the calls {@link runsInWorker} picks to the worker pool
 * and running the rest in-process as before.
 */
export function isolatedPluginExecutors(handlers: Record<string, Executor>, pool: Pick<PluginWorkerPool, 'run'>, isolation: PluginIsolation): Record<string, Executor> {
  if (isolation === 'none') return handlers;
  return Object.fromEntries(Object.entries(handlers).map(([type, inProcess]): [string, Executor] => [
    type,
    (payload, ctx) => (runsInWorker(isolation, ctx) ? pool.run(type, payload, ctx) : inProcess(payload, ctx)),
  ]));
}
