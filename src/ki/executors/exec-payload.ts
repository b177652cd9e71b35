import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../errors';
import { TaskExecutionError } from './types';

/** Payload of an `exec` task. There is deliberately no `cwd` and no shell. */
export interface ExecPayload {
  /** A name from `ki.execAllowlist`, never a path. */
  command: string;
  args?: string[];
  /** Added to the minimal environment the command runs with. */
  env?: Record<string, string>;
  /** Written to the command's standard input, which is then closed. */
  stdin?: string;
}

// spawn() throws synchronously on a NUL byte; refusing it here gives the task a clear error.
const noNul = z.string().refine((s) => !s.includes('\0'), 'must not contain NUL characters');

const payloadSchema = z.strictObject({
  command: z.string().min(1),
  args: z.array(noNul).optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name'), noNul).optional(),
  stdin: z.string().optional(),
});

// The loader variables would run arbitrary code inside an allowed command.
const FORBIDDEN_ENV = /^(LD_|DYLD_)/;

function badPayload(message: string, cause?: unknown): TaskExecutionError {
  return new TaskExecutionError(`bad exec payload: ${message}`, { code: 'BAD_PAYLOAD', retryable: false, cause });
}

/**
 * Validates an `exec` payload.
 * @throws {@link TaskExecutionError} with code `BAD_PAYLOAD` naming the field.
 */
export function parseExecPayload(payload: unknown): ExecPayload {
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
    throw badPayload(`${where}${issue?.message ?? 'invalid'}`, parsed.error);
  }
  for (const name of Object.keys(parsed.data.env ?? {})) {
    if (FORBIDDEN_ENV.test(name)) throw badPayload(`env ${name} is not allowed`);
  }
  return parsed.data;
}

/**
 * Checks an allowlist (name -> absolute command path) and returns a frozen copy without a
 * prototype, so names such as `constructor` can never resolve to something inherited.
 * @throws {@link ConfigError} naming `ki.execAllowlist` and the bad entry.
 */
export function checkExecAllowlist(allowlist: Record<string, unknown>): Readonly<Record<string, string>> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, path] of Object.entries(allowlist)) {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new ConfigError(`ki.execAllowlist: name "${name}" must match [A-Za-z0-9._-]+`);
    // A relative path would be looked up in PATH or the working directory, which a task controls.
    if (typeof path !== 'string' || !isAbsolute(path)) throw new ConfigError(`ki.execAllowlist: "${name}" must map to an absolute path`);
    out[name] = path;
  }
  return Object.freeze(out);
}

/**
 * Parses the `ki.execAllowlist` config value (a JSON object name -> absolute path).
 * @throws {@link ConfigError} naming the key.
 */
export function parseExecAllowlist(json: string): Readonly<Record<string, string>> {
  let raw: unknown;
  try {
    raw = JSON.parse(json.trim() === '' ? '{}' : json);
  } catch (err) {
    throw new ConfigError(`ki.execAllowlist is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('ki.execAllowlist must be a JSON object of name -> command path');
  return checkExecAllowlist(raw as Record<string, unknown>);
}
