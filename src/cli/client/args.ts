/** The client commands `node dist/main.js` understands besides the node roles. */
export const CLIENT_COMMANDS = ['submit', 'get', 'list', 'cancel', 'nodes'] as const;
export type ClientCommand = (typeof CLIENT_COMMANDS)[number];

/** Whether a command name is one of {@link CLIENT_COMMANDS}. */
export function isClientCommand(name: string | undefined): name is ClientCommand {
  return name !== undefined && (CLIENT_COMMANDS as readonly string[]).includes(name);
}

/** Options that take no value; every other `--name` takes the next argument (or `--name=value`). */
const FLAGS = new Set(['json', 'wait', 'help']);

/** A bad command line: printed with the usage, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ClientArgs {
  /** Arguments that are not options (the task id of `get` and `cancel`). */
  positionals: string[];
  /** `--name value` options by name; the last one given wins. */
  options: Map<string, string>;
  /** `--json`, `--wait`, `--help`. */
  flags: Set<string>;
}

/** Splits a client command line (without the command itself) into positionals, options and flags. */
export function parseClientArgs(argv: readonly string[]): ClientArgs {
  const out: ClientArgs = { positionals: [], options: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h') { out.flags.add('help'); continue; }
    if (a === '--') { out.positionals.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith('--')) { out.positionals.push(a); continue; }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (FLAGS.has(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      out.flags.add(name);
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    out.options.set(name, value);
  }
  return out;
}

/**
 * Finds the client command in a full command line (`[--url U] submit --type echo`): the first
 * argument that is not an option or an option's value. Returns undefined when the command line
 * names no client command, so the caller can go on with the node roles.
 */
export function splitClientCommand(argv: readonly string[]): { command: ClientCommand; args: string[] } | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('-')) {
      const name = a.replace(/^--?/, '');
      if (!a.includes('=') && !FLAGS.has(name) && a !== '-h' && a.startsWith('--')) i++; // skip its value
      continue;
    }
    return isClientCommand(a) ? { command: a, args: [...argv.slice(0, i), ...argv.slice(i + 1)] } : undefined;
  }
  return undefined;
}

/** Refuses options the command does not know, so a typo is not silently ignored. */
export function checkKnownOptions(args: ClientArgs, allowed: readonly string[]): void {
  const known = new Set([...allowed, 'url', 'token']);
  for (const name of args.options.keys()) if (!known.has(name)) throw new UsageError(`unknown option --${name}`);
}

/** An integer option within bounds, or undefined when absent. */
export function intOption(args: ClientArgs, name: string, min: number, max: number): number | undefined {
  const raw = args.options.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** The one positional argument a command needs (a task id). */
export function onePositional(args: ClientArgs, what: string): string {
  if (args.positionals.length !== 1) throw new UsageError(`expected exactly one ${what}`);
  return args.positionals[0]!;
}

/** Help text of the client commands, printed by `--help`. */
export const CLIENT_USAGE = `Client commands (talk to a principal's REST API):
  submit --type T [--payload JSON] [--priority 0-9] [--timeout-ms N] [--max-attempts N]
         [--gpus N] [--idempotency-key K] [--wait]      submit a task (--wait: follow it to its end)
  get ID [--wait]                                       show a task
  list [--status S] [--type T] [--limit N] [--cursor C] list tasks, newest first
  cancel ID                                             cancel a task
  nodes                                                 show the cluster's nodes

Client options:
  --url URL       the principal (ANKI_URL, default http://localhost:3030)
  --token JWT     client token (ANKI_TOKEN); mint one with: node dist/main.js token --sub NAME --role submitter
  --json          print the server's JSON instead of tables
  --poll-ms N     how often --wait asks for the task (default 500)

Exit status: 0 done (with --wait: the task succeeded), 1 failed, cancelled or an error, 2 bad usage.`;
