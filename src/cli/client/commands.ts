import { setTimeout as sleep } from 'node:timers/promises';
import { TERMINAL, type ApiTask, type ApiTaskStatus, type SubmitBody } from './api-types';
import { checkKnownOptions, durationOption, intOption, onePositional, UsageError, type ClientArgs, type ClientCommand } from './args';
import { formatNodeTable, formatTaskDetail, formatTaskTable } from './format';
import { ApiError, ServerUnreachableError, type ApiClient } from './http-client';
import { printJson, type ClientOutput } from './output';
import { ProgressReporter } from './progress';
import { cluster, deleteTask, releaseNode, setPriority } from './admin-commands';
import { cordon, deadLetters, drain, retry, tenants, uncordon } from './operation-commands';
import { models } from './model-commands';
import { schedule } from './schedule-commands';
import { requirementsOf, redundancyOf } from './submit-options';
import { workflow } from './workflow-commands';

/** What every command gets: the API, the parsed command line, where to write. */
export interface CommandContext {
  api: ApiClient;
  args: ClientArgs;
  out: ClientOutput;
  json: boolean;
  /** For ages in tables; a parameter so output can be checked. */
  now: () => number;
}

/** Consecutive failed polls of `--wait` (server restarting, leader moving) before giving up. */
const MAX_POLL_FAILURES = 20;
const DEFAULT_POLL_MS = 500;

const isTerminal = (t: ApiTask) => TERMINAL.includes(t.status);


function printTask(c: CommandContext, t: ApiTask): void {
  if (c.json) printJson(c.out, t);
  else c.out.write(formatTaskDetail(t));
}

/**
 * Polls a task until it is terminal, showing its progress (not with --json, whose stdout is the
 * task alone). A poll that fails for a passing reason (503, connection refused while a principal
 * restarts) is tried again; anything else ends the wait with that error.
 */
async function follow(c: CommandContext, first: ApiTask): Promise<ApiTask> {
  const pollMs = intOption(c.args, 'poll-ms', 50, 60_000) ?? DEFAULT_POLL_MS;
  const progress = c.json ? undefined : new ProgressReporter(c.out);
  let t = first;
  let failures = 0;
  try {
    for (;;) {
      progress?.update(t);
      if (isTerminal(t)) return t;
      await sleep(pollMs);
      try {
        t = await c.api.getTask(t.id);
        failures = 0;
      } catch (err) {
        const passing = err instanceof ServerUnreachableError || (err instanceof ApiError && err.retryable);
        if (!passing || ++failures >= MAX_POLL_FAILURES) throw err;
      }
    }
  } finally {
    progress?.finish();
  }
}

/** Prints the final task; exit status 0 only when it succeeded. */
async function finishFollowing(c: CommandContext, first: ApiTask): Promise<number> {
  const t = await follow(c, first);
  printTask(c, t);
  return t.status === 'succeeded' ? 0 : 1;
}

function parsePayload(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw new UsageError(`--payload is not valid JSON (${(err as Error).message}); quote it, e.g. --payload '{"x":1}'`);
  }
}

async function submit(c: CommandContext): Promise<number> {
  checkKnownOptions(c.args, ['type', 'payload', 'priority', 'timeout-ms', 'timeout', 'max-attempts', 'gpus', 'gpu-memory-mib', 'labels', 'redundancy', 'idempotency-key', 'poll-ms', 'delay', 'run-at', 'model']);
  if (c.args.positionals.length > 0) throw new UsageError(`submit takes no arguments, got "${c.args.positionals[0]}" (use --payload)`);
  const type = c.args.options.get('type');
  if (!type) throw new UsageError('submit needs --type (e.g. --type echo)');
  const payload = parsePayload(c.args.options.get('payload'));
  const priority = intOption(c.args, 'priority', 0, 9);
  if (c.args.options.has('timeout') && c.args.options.has('timeout-ms')) throw new UsageError('give --timeout or --timeout-ms, not both');
  const timeoutMs = intOption(c.args, 'timeout-ms', 1, 7 * 24 * 3600 * 1000) ?? durationOption(c.args, 'timeout');
  const maxAttempts = intOption(c.args, 'max-attempts', 1, 100);
  const requirements = requirementsOf(c.args);
  const redundancy = redundancyOf(c.args);
  const delayMs = durationOption(c.args, 'delay');
  // The server checks the time (RFC 3339 with an offset, within its horizon) and names what is wrong.
  const runAt = c.args.options.get('run-at');
  const model = c.args.options.get('model');
  if (delayMs !== undefined && runAt !== undefined) throw new UsageError('give --delay or --run-at, not both');
  const body: SubmitBody = {
    type,
    ...(payload !== undefined ? { payload } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    ...(requirements ? { requirements } : {}),
    ...(redundancy ? { redundancy } : {}),
    ...(delayMs !== undefined ? { delayMs } : {}),
    ...(runAt !== undefined ? { runAt } : {}),
    ...(model !== undefined ? { model } : {}),
  };
  const task = await c.api.submitTask(body, c.args.options.get('idempotency-key'));
  if (c.args.flags.has('wait')) return finishFollowing(c, task);
  printTask(c, task);
  return 0;
}

async function get(c: CommandContext): Promise<number> {
  checkKnownOptions(c.args, ['poll-ms']);
  const task = await c.api.getTask(onePositional(c.args, 'task id'));
  if (c.args.flags.has('wait')) return finishFollowing(c, task);
  printTask(c, task);
  return 0;
}

async function list(c: CommandContext): Promise<number> {
  checkKnownOptions(c.args, ['status', 'type', 'limit', 'cursor']);
  if (c.args.positionals.length > 0) throw new UsageError(`list takes no arguments, got "${c.args.positionals[0]}"`);
  const status = c.args.options.get('status');
  const type = c.args.options.get('type');
  const limit = intOption(c.args, 'limit', 1, 1000);
  const cursor = c.args.options.get('cursor');
  // The server checks the status and names the ones it knows.
  const page = await c.api.listTasks({
    ...(status ? { status: status as ApiTaskStatus } : {}), ...(type ? { type } : {}), ...(limit !== undefined ? { limit } : {}), ...(cursor ? { cursor } : {}),
  });
  if (c.json) {
    printJson(c.out, page);
    return 0;
  }
  c.out.write(page.items.length ? formatTaskTable(page.items, c.now()) : 'no tasks\n');
  if (page.nextCursor) c.out.write(`more: --cursor ${page.nextCursor}\n`);
  return 0;
}

async function cancel(c: CommandContext): Promise<number> {
  checkKnownOptions(c.args, []);
  printTask(c, await c.api.cancelTask(onePositional(c.args, 'task id')));
  return 0;
}

async function nodes(c: CommandContext): Promise<number> {
  checkKnownOptions(c.args, []);
  if (c.args.positionals.length > 0) throw new UsageError(`nodes takes no arguments, got "${c.args.positionals[0]}"`);
  const page = await c.api.listNodes();
  if (c.json) printJson(c.out, page);
  else c.out.write(page.items.length ? formatNodeTable(page.items, c.now()) : 'no nodes\n');
  return 0;
}

export const COMMAND_HANDLERS: Readonly<Record<ClientCommand, (c: CommandContext) => Promise<number>>> = {
  submit, get, list, cancel, delete: deleteTask, priority: setPriority, retry, nodes, release: releaseNode, cordon, drain, uncordon, cluster,
  'dead-letters': deadLetters, tenants, models, schedule, workflow,
};
