import type { Executor } from './types';

/** The executors of one Ki, by task type. */
export interface ExecutorRegistry {
  /** The executor for `type`, or undefined when this Ki cannot run it. */
  get(type: string): Executor | undefined;
  /** The task types this Ki runs, sorted, as advertised in heartbeats. */
  types(): string[];
}

/**
 * Builds an {@link ExecutorRegistry} from `type -> executor`. A Map, not the object itself, so
 * a task type such as `constructor` or `__proto__` can never resolve to something inherited.
 * The entries are copied: later changes to `entries` do not reach the registry.
 * @throws TypeError for an empty type or an entry that is not a function.
 */
export function createExecutorRegistry(entries: Record<string, Executor>): ExecutorRegistry {
  const byType = new Map<string, Executor>();
  for (const [type, executor] of Object.entries(entries)) {
    if (type === '') throw new TypeError('executor type must not be empty');
    if (typeof executor !== 'function') throw new TypeError(`executor for type "${type}" is not a function`);
    byType.set(type, executor);
  }
  const sorted = [...byType.keys()].sort();
  return {
    get: (type) => byType.get(type),
    types: () => [...sorted],
  };
}
