import { isAbsolute } from 'node:path';
import { ConfigError } from '../../errors';

/**
 * One command of `ki.execAllowlist`, resolved: what a task may run and exactly what it may pass.
 * The entry, not the task, decides: a task can name only the environment variables listed here.
 */
export interface ExecCommand {
  /** Absolute path of the program. */
  readonly path: string;
  /** Environment variable names a task may set for this command; empty: none. */
  readonly env: ReadonlySet<string>;
  /** Every argument must fully match this; undefined: any argument. */
  readonly args?: RegExp;
  /** Most arguments a task may pass; undefined: no limit. */
  readonly maxArgs?: number;
}

/** The resolved allowlist: name -> command, without a prototype. */
export type ExecAllowlist = Readonly<Record<string, ExecCommand>>;

/**
 * Variables that the Ki sets itself (PATH, CUDA_VISIBLE_DEVICES) or that make a shell, the
 * dynamic loader or an interpreter run code of the caller's choosing (BASH_ENV, NODE_OPTIONS,
 * PYTHONPATH, PERL5OPT, ...). Listing one for a command is a configuration error. This list is
 * defence in depth: the primary control is that a task passes only what its entry names.
 */
const NEVER_TASK_CONTROLLED = new Set([
  'PATH', 'CUDA_VISIBLE_DEVICES', 'HOME', 'SHELL', 'IFS', 'ENV', 'BASH_ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'CDPATH', 'GLOBIGNORE',
  'PROMPT_COMMAND', 'PERLLIB', 'CLASSPATH', 'LOCPATH', 'HOSTALIASES', 'BROWSER', 'EDITOR', 'VISUAL', 'PAGER',
]);
const NEVER_TASK_CONTROLLED_PREFIXES = ['LD_', 'DYLD_', 'BASH_FUNC_', 'PYTHON', 'PERL5', 'PERL_', 'RUBY', 'GEM_', 'NODE_', 'NPM_', 'JAVA_', '_JAVA_', 'JDK_', 'GIT_', 'LUA_', 'GCONV_', 'MALLOC_', 'GLIBC_'];

/** Whether `name` controls a loader, shell or interpreter, or is set by the Ki itself. */
export function isNeverTaskControlled(name: string): boolean {
  const upper = name.toUpperCase();
  return NEVER_TASK_CONTROLLED.has(upper) || NEVER_TASK_CONTROLLED_PREFIXES.some((p) => upper.startsWith(p));
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENTRY_KEYS = new Set(['path', 'env', 'args', 'maxArgs']);

function entryError(name: string, message: string, cause?: unknown): ConfigError {
  return new ConfigError(`ki.execAllowlist: "${name}" ${message}`, cause === undefined ? undefined : { cause });
}

function checkPath(name: string, path: unknown): string {
  // A relative path would be looked up in PATH or the working directory.
  if (typeof path !== 'string' || !isAbsolute(path)) throw entryError(name, 'must map to an absolute path');
  return path;
}

function checkEnvNames(name: string, env: unknown): Set<string> {
  if (env === undefined) return new Set();
  if (!Array.isArray(env)) throw entryError(name, 'env must be a list of variable names');
  for (const v of env) {
    if (typeof v !== 'string' || !ENV_NAME.test(v)) throw entryError(name, `env entry ${JSON.stringify(v)} is not a variable name`);
    if (isNeverTaskControlled(v)) throw entryError(name, `env ${v} can never be set by a task (it is set by the Ki or makes a shell, loader or interpreter run code)`);
  }
  return new Set(env as string[]);
}

function checkArgsPattern(name: string, args: unknown): RegExp | undefined {
  if (args === undefined) return undefined;
  if (typeof args !== 'string') throw entryError(name, 'args must be a regular expression string');
  try {
    // Anchored here so that an entry's pattern cannot match a part of an argument by mistake.
    return new RegExp(`^(?:${args})$`, 'u');
  } catch (err) {
    throw entryError(name, `args is not a valid regular expression: ${(err as Error).message}`, err);
  }
}

function checkMaxArgs(name: string, maxArgs: unknown): number | undefined {
  if (maxArgs === undefined) return undefined;
  if (typeof maxArgs !== 'number' || !Number.isInteger(maxArgs) || maxArgs < 0) throw entryError(name, 'maxArgs must be a non-negative integer');
  return maxArgs;
}

function checkEntry(name: string, entry: unknown): ExecCommand {
  // The short form: a path, with free arguments and no environment from the task.
  if (typeof entry === 'string') return Object.freeze({ path: checkPath(name, entry), env: new Set<string>() });
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw entryError(name, 'must be an absolute path or an object { path, env?, args?, maxArgs? }');
  const fields = entry as Record<string, unknown>;
  const unknown = Object.keys(fields).find((k) => !ENTRY_KEYS.has(k));
  if (unknown !== undefined) throw entryError(name, `has an unknown field "${unknown}"`);
  const args = checkArgsPattern(name, fields['args']);
  const maxArgs = checkMaxArgs(name, fields['maxArgs']);
  return Object.freeze({
    path: checkPath(name, fields['path']),
    env: checkEnvNames(name, fields['env']),
    ...(args ? { args } : {}),
    ...(maxArgs !== undefined ? { maxArgs } : {}),
  });
}

/**
 * Checks an allowlist (name -> absolute path, or name -> `{ path, env?, args?, maxArgs? }`) and
 * returns a frozen copy without a prototype, so names such as `constructor` can never resolve
 * to something inherited.
 * @throws {@link ConfigError} naming `ki.execAllowlist` and the bad entry.
 */
export function checkExecAllowlist(allowlist: Record<string, unknown>): ExecAllowlist {
  const out = Object.create(null) as Record<string, ExecCommand>;
  for (const [name, entry] of Object.entries(allowlist)) {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new ConfigError(`ki.execAllowlist: name "${name}" must match [A-Za-z0-9._-]+`);
    out[name] = checkEntry(name, entry);
  }
  return Object.freeze(out);
}

/** One entry of `ki.execAllowlist` as configured: an absolute path, or a path with what a task may pass. */
export type ExecAllowlistEntry = string | { path: string; env?: string[]; args?: string; maxArgs?: number };

/**
 * Reads the `ki.execAllowlist` config value (a JSON object of name -> {@link ExecAllowlistEntry})
 * without checking the entries; {@link checkExecAllowlist} does that.
 * @throws {@link ConfigError} naming the key.
 */
export function readExecAllowlistJson(json: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(json.trim() === '' ? '{}' : json);
  } catch (err) {
    throw new ConfigError(`ki.execAllowlist is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('ki.execAllowlist must be a JSON object of name -> command path or entry');
  return raw as Record<string, unknown>;
}

/**
 * Parses and checks the `ki.execAllowlist` config value.
 * @throws {@link ConfigError} naming the key and the bad entry.
 */
export function parseExecAllowlist(json: string): ExecAllowlist {
  return checkExecAllowlist(readExecAllowlistJson(json));
}
