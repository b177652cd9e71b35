import { z } from 'zod';
import type { ExecCommand } from './exec-allowlist';
import { TaskExecutionError } from './types';

/** Payload of an `exec` task. There is deliberately no `cwd` and no shell. */
export interface ExecPayload {
  /** A name from `ki.execAllowlist`, never a path. */
  command: string;
  args?: string[];
  /** Added to the minimal environment; only names the command's allowlist entry lists. */
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

function badPayload(message: string, cause?: unknown): TaskExecutionError {
  return new TaskExecutionError(`bad exec payload: ${message}`, { code: 'BAD_PAYLOAD', retryable: false, cause });
}

/**
 * Validates the shape of an `exec` payload.
 * @throws {@link TaskExecutionError} with code `BAD_PAYLOAD` naming the field.
 */
export function parseExecPayload(payload: unknown): ExecPayload {
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
    throw badPayload(`${where}${issue?.message ?? 'invalid'}`, parsed.error);
  }
  return parsed.data;
}

/**
 * Checks a payload against its command's allowlist entry: every environment variable must be
 * one the entry lists (anything else could make a shell or interpreter run the task's code),
 * and the arguments must respect the entry's `maxArgs` and `args` pattern.
 * @throws {@link TaskExecutionError} with code `BAD_PAYLOAD` naming the variable or argument.
 */
export function checkPayloadAgainst(command: ExecCommand, payload: ExecPayload): void {
  for (const name of Object.keys(payload.env ?? {})) {
    if (!command.env.has(name)) throw badPayload(`env ${name} is not allowed for command "${payload.command}" (not in its ki.execAllowlist env)`);
  }
  const args = payload.args ?? [];
  if (command.maxArgs !== undefined && args.length > command.maxArgs) throw badPayload(`command "${payload.command}" takes at most ${command.maxArgs} arguments, got ${args.length}`);
  const pattern = command.args;
  if (pattern) {
    const index = args.findIndex((a) => !pattern.test(a));
    if (index >= 0) throw badPayload(`args.${index} does not match the pattern of command "${payload.command}"`);
  }
}
