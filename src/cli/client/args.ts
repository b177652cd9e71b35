import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The client commands `node dist/main.js` understands besides the node roles. */
export const CLIENT_COMMANDS = ['submit', 'get', 'list', 'cancel', 'delete', 'priority', 'retry', 'nodes', 'release', 'cordon', 'drain', 'uncordon', 'cluster', 'dead-letters', 'tenants', 'models', 'schedule', 'workflow'] as const;
export type ClientCommand = (typeof CLIENT_COMMANDS)[number];

/** Whether a command name is one of {@link CLIENT_COMMANDS}. */
export function isClientCommand(name: string | undefined): name is ClientCommand {
  return name !== undefined && (CLIENT_COMMANDS as readonly string[]).includes(name);
}

/** Options that take no value; every other `--name` takes the next argument (or `--name=value`). */
const FLAGS = new Set(['json', 'wait', 'help']);

/** The options some client command reads, each taking a value; a command refuses those it does not read. */
const VALUE_OPTIONS = ['url', 'token', 'type', 'payload', 'priority', 'timeout-ms', 'timeout', 'max-attempts', 'gpus', 'gpu-memory-mib', 'labels', 'redundancy', 'idempotency-key', 'status', 'limit', 'cursor', 'poll-ms', 'delay', 'run-at',
  'name', 'cron', 'timezone', 'overlap', 'catchup', 'reason', 'weight', 'max-running', 'max-queued', 'gpu-seconds-budget', 'model', 'warm-min', 'warm-max', 'config'] as const;

/** What `util.parseArgs` knows of the client options: strings and the flags (`-h` is `--help`). */
const PARSE_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  ...Object.fromEntries(VALUE_OPTIONS.map((name) => [name, { type: 'string' as const }])),
  json: { type: 'boolean' }, wait: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};

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

type Token = ReturnType<typeof parseArgs>['tokens'] extends (infer T)[] | undefined ? T : never;

/** All tokens of a command line, leaving unknown options for the caller to judge. */
function tokensOf(argv: readonly string[]): Token[] {
  return parseArgs({ args: [...argv], options: PARSE_OPTIONS, strict: false, allowPositionals: true, tokens: true }).tokens;
}

/**
 * Splits a client command line (without the command itself) into positionals, options and flags.
 * An option no client command reads is refused by name (`unknown option --stauts`), so a typo is
 * not taken for a task id; one that another command reads is refused by that command.
 */
export function parseClientArgs(argv: readonly string[]): ClientArgs {
  const out: ClientArgs = { positionals: [], options: new Map(), flags: new Set() };
  for (const t of tokensOf(argv)) {
    if (t.kind === 'positional') { out.positionals.push(t.value); continue; }
    if (t.kind === 'option-terminator') continue;
    if (!(t.name in PARSE_OPTIONS)) throw new UsageError(`unknown option ${t.rawName}`);
    if (FLAGS.has(t.name)) {
      if (t.value !== undefined) throw new UsageError(`--${t.name} takes no value`);
      out.flags.add(t.name);
      continue;
    }
    if (t.value === undefined) throw new UsageError(`--${t.name} needs a value`);
    out.options.set(t.name, t.value);
  }
  return out;
}

/**
 * Finds the client command in a full command line (`[--url U] submit --type echo`): the first
 * argument that is not an option or an option's value. Returns undefined when the command line
 * names no client command, so the caller can go on with the node roles.
 */
export function splitClientCommand(argv: readonly string[]): { command: ClientCommand; args: string[] } | undefined {
  /** Index in argv of a word taken as the value of an option the client does not know (`--config FILE`, `--port N`). */
  let taken = -1;
  for (const t of tokensOf(argv)) {
    if (t.index === taken) continue;
    if (t.kind === 'option-terminator') return undefined;
    if (t.kind === 'option') {
      if (t.value === undefined && !(t.name in PARSE_OPTIONS) && t.rawName.startsWith('--')) taken = t.index + 1;
      continue;
    }
    return isClientCommand(t.value) ? { command: t.value, args: [...argv.slice(0, t.index), ...argv.slice(t.index + 1)] } : undefined;
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

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration option in ms, or undefined when absent: plain milliseconds (`1500`) or amounts with
 * units, largest first (`90s`, `5m`, `1h30m`, `2d`, `250ms`).
 */
export function durationOption(args: ClientArgs, name: string): number | undefined {
  const raw = args.options.get(name)?.trim();
  if (raw === undefined) return undefined;
  const bad = () => new UsageError(`--${name} must be milliseconds (1500) or a duration such as 90s, 5m, 1h30m, 2d`);
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (!Number.isSafeInteger(n)) throw bad();
    return n;
  }
  const parts = [...raw.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== raw) throw bad();
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNIT_MS[p[2]!]!, 0);
  if (!Number.isSafeInteger(ms)) throw bad();
  return ms;
}

/** The one positional argument a command needs (a task id). */
export function onePositional(args: ClientArgs, what: string): string {
  if (args.positionals.length !== 1) throw new UsageError(`expected exactly one ${what}`);
  return args.positionals[0]!;
}

/** Help text of the client commands, printed by `--help`. */
export const CLIENT_USAGE = `Client commands (talk to a principal's REST API):
  submit --type T [--payload JSON] [--priority 0-9] [--timeout MS|DURATION] [--max-attempts N]
         [--gpus N] [--gpu-memory-mib N] [--labels a=b,c]  what a Ki must have (labels: all of them)
         [--redundancy R[:Q]]                           run on R Kis, Q equal results (default: a majority)
         [--model NAME]                                 run on a deployed model (its handler gets ctx.model)
         [--idempotency-key K] [--wait]                 submit a task (--wait: follow it to its end)
         [--delay MS|DURATION | --run-at RFC3339]        start it later: after a delay (1500, 90s, 5m, 1h30m)
                                                        or at a time (2030-01-31T08:00:00Z)
  get ID [--wait]                                       show a task
  list [--status S] [--type T] [--limit N] [--cursor C] list tasks, newest first
  cancel ID                                             cancel a task
  delete ID                                             delete a task, its payload and result
  priority ID N                                         change a queued or scheduled task's priority (0-9)
  nodes                                                 show the cluster's nodes
  cluster                                               show leader, counts, queue depths and groups
  retry ID                                              run a failed task again (a new attempt under its id)
  release NODE                                          let a quarantined Ki take work again (admin)
  cordon|drain|uncordon NODE [--reason TEXT]            no new work on a node | and report it drained | take work again
  dead-letters [list] [--limit N] [--cursor C]          what failed for good, and why (admin, operator)
  dead-letters redrive ID | delete ID                   run a dead-lettered task again | forget the letter
  tenants [list]                                        tenants: weight, caps, queued, running, GPU-seconds
  tenants set NAME [--weight N] [--max-running N|none] [--max-queued N|none] [--gpu-seconds-budget N|none]
                                                        set a tenant's share and caps (admin)
  models [list]                                         deployed models and the Kis each is loaded on (state per Ki)
  models deploy NAME --type T [--warm-min N] [--warm-max N] [--config JSON] [--gpus N] [--gpu-memory-mib N] [--labels a,b]
                                                        deploy (or redeploy) a model for interactive inference (admin, operator)
  models delete NAME                                    delete a model: it is unloaded everywhere (admin, operator)
  schedule create --name N --cron "EXPR" --type T [--payload JSON] [--timezone TZ]
         [--overlap skip|allow] [--catchup none|latest] [--priority 0-9] [--timeout-ms N]
         [--max-attempts N] [--idempotency-key K]      create a cron schedule (5 fields, or 6 with seconds)
  schedule list [--limit N] [--cursor C]                list schedules, newest first
  schedule get|pause|resume|delete ID                   show, pause, resume or delete a schedule
  workflow submit FILE [--idempotency-key K] [--wait]   submit a workflow (JSON file; --wait: a line per change)
  workflow get ID [--wait] | cancel ID                  show or cancel a workflow
  workflow list [--status S] [--limit N] [--cursor C]   list workflows, newest first

Client options:
  --url URL       the principal (ANKI_URL, default http://localhost:3030)
  --token JWT     client token (ANKI_TOKEN); mint one with: node dist/main.js token --sub NAME --role submitter
  --json          print the server's JSON instead of tables
  --poll-ms N     how often --wait asks for the task (default 500)
  --version       the build's version and commit

Exit status: 0 done (with --wait: the task succeeded), 1 failed, cancelled or an error, 2 bad usage.`;
