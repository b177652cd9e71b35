import type { AppConfig } from '../../config';
import { ConfigError } from '../../errors';
import type { Logger } from '../../observability';
import { createExecExecutor } from './exec';
import { readExecAllowlistJson } from './exec-allowlist';
import { createHttpExecutor } from './http';
import { loadPluginHandlers } from './plugin';
import { isolatedPluginExecutors } from './plugin-workers/isolated-executors';
import type { PluginWorkerPool } from './plugin-workers/worker-pool';
import type { Executor } from './types';

/** The `ki.*` settings the configurable executors read. */
export type ConfiguredExecutorSettings = Pick<AppConfig['ki'], 'execAllowlist' | 'execPath' | 'execUser' | 'httpEndpoint' | 'maxOutputBytes' | 'killGraceMs' | 'handlers' | 'pluginIsolation'>;

/**
 * Builds the executors that depend on configuration: `exec` (only with a non-empty
 * `ki.execAllowlist`), `http` (only with `ki.httpEndpoint`) and the handlers of `ki.handlers`.
 * A type is left out rather than registered broken, so a Ki never advertises work it would
 * only fail. Built-in executors are merged by the caller.
 *
 * @param production - warn when `exec` runs commands as the Ki's own user.
 * @param pluginWorkers - where the handlers' calls go that `ki.pluginIsolation` isolates; without
 *   it every handler runs in-process.
 * @throws {@link ConfigError} for a bad allowlist, exec path or user, endpoint or handler module,
 *   or a handler that reuses the name `exec` or `http`.
 */
export function createConfiguredExecutors(settings: ConfiguredExecutorSettings, log: Logger, production = false, pluginWorkers?: Pick<PluginWorkerPool, 'run'>): Record<string, Executor> {
  const executors: Record<string, Executor> = {};
  const allowlist = readExecAllowlistJson(settings.execAllowlist);
  if (Object.keys(allowlist).length > 0) {
    executors['exec'] = createExecExecutor({
      allowlist, path: settings.execPath, user: settings.execUser, maxOutputBytes: settings.maxOutputBytes, killGraceMs: settings.killGraceMs,
    });
    if (production && settings.execUser.trim() === '') {
      log.warn('ki.execUser (KI_EXEC_USER) is empty: exec commands run as the Ki\'s own user and can read its environment (AES_KEYS, AMQP_URL, JWT_SECRET_KEY); set a user of their own');
    }
  }
  if (settings.httpEndpoint.trim() !== '') {
    executors['http'] = createHttpExecutor({ endpoint: settings.httpEndpoint });
  }
  if (settings.handlers.trim() !== '') {
    const handlers = loadPluginHandlers(settings.handlers, log);
    for (const type of Object.keys(handlers)) {
      // Silently replacing `exec` would bypass its allowlist; make the clash an error.
      if (Object.hasOwn(executors, type)) throw new ConfigError(`ki.handlers: type "${type}" is already provided by the ${type} executor`);
    }
    Object.assign(executors, pluginWorkers ? isolatedPluginExecutors(handlers, pluginWorkers, settings.pluginIsolation) : handlers);
  }
  return executors;
}
