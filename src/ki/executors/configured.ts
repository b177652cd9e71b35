import type { AppConfig } from '../../config/schema';
import { ConfigError } from '../../errors';
import type { Logger } from '../../observability/logger';
import { createExecExecutor } from './exec';
import { parseExecAllowlist } from './exec-payload';
import { createHttpExecutor } from './http';
import { loadPluginHandlers } from './plugin';
import type { Executor } from './types';

/** The `ki.*` settings the configurable executors read. */
export type ConfiguredExecutorSettings = Pick<AppConfig['ki'], 'execAllowlist' | 'httpEndpoint' | 'maxOutputBytes' | 'killGraceMs' | 'handlers'>;

/**
 * Builds the executors that depend on configuration: `exec` (only with a non-empty
 * `ki.execAllowlist`), `http` (only with `ki.httpEndpoint`) and the handlers of `ki.handlers`.
 * A type is left out rather than registered broken, so a Ki never advertises work it would
 * only fail. Built-in executors are merged by the caller.
 *
 * @throws {@link ConfigError} for a bad allowlist, endpoint or handler module, or a handler
 *   that reuses the name `exec` or `http`.
 */
export function createConfiguredExecutors(settings: ConfiguredExecutorSettings, log: Logger): Record<string, Executor> {
  const executors: Record<string, Executor> = {};
  const allowlist = parseExecAllowlist(settings.execAllowlist);
  if (Object.keys(allowlist).length > 0) {
    executors['exec'] = createExecExecutor({ allowlist, maxOutputBytes: settings.maxOutputBytes, killGraceMs: settings.killGraceMs });
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
    Object.assign(executors, handlers);
  }
  return executors;
}
