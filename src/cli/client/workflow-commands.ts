import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiWorkflow } from './api-types';
import { checkKnownOptions, intOption, onePositional, UsageError, type ClientArgs } from './args';
import { ApiError, ServerUnreachableError } from './http-client';
import { printable } from './table';
import type { CommandContext } from './commands';
import { printJson } from './output';

const DEFAULT_POLL_MS = 500;
const MAX_POLL_FAILURES = 20;


/** `done/total` nodes and the count of each state that is not pending, e.g. `3/5 nodes: succeeded 2, running 1, failed 0`. */
export function workflowProgressLine(w: ApiWorkflow): string {
  const nodes = w.nodes ?? [];
  const count = (s: string) => nodes.filter((n) => n.status === s).length;
  const done = nodes.filter((n) => n.status !== 'pending' && n.status !== 'running').length;
  const states = ['running', 'succeeded', 'failed', 'skipped', 'cancelled'].map((s) => [s, count(s)] as const).filter(([, n]) => n > 0);
  return `workflow ${w.id} ${w.status}: ${done}/${nodes.length} nodes done${states.length ? ` (${states.map(([s, n]) => `${s} ${n}`).join(', ')})` : ''}`;
}

/** A workflow and its nodes as lines of text. */
export function formatWorkflowDetail(w: ApiWorkflow): string {
  const lines = [
    `id        ${w.id}`, ...(w.name ? [`name      ${printable(w.name)}`] : []), `status    ${w.status}`,
    ...(w.reason ? [`reason    ${printable(w.reason)}`] : []), `created   ${w.createdAt}`, ...(w.finishedAt ? [`finished  ${w.finishedAt}`] : []),
  ];
  for (const n of w.nodes ?? []) {
    const tasks = n.taskIds.length === 1 ? n.taskIds[0] : `${n.taskIds.length} tasks`;
    lines.push(`  ${printable(n.key)}  ${n.status}${n.map ? ` (map over ${printable(n.map.over)})` : ''}${n.taskIds.length ? `  ${tasks}` : ''}${n.reason ? `  ${printable(n.reason)}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

function print(c: CommandContext, w: ApiWorkflow): void {
  if (c.json) printJson(c.out, w);
  else c.out.write(formatWorkflowDetail(w));
}

/**
 * Polls a workflow until it ends, writing a progress line each time it changes (not with
 * --json); passing failures (503, a principal restarting) are tried again.
 */
async function follow(c: CommandContext, first: ApiWorkflow): Promise<number> {
  const pollMs = intOption(c.args, 'poll-ms', 50, 60_000) ?? DEFAULT_POLL_MS;
  let w = first;
  let last = '';
  let failures = 0;
  for (;;) {
    const line = workflowProgressLine(w);
    if (!c.json && line !== last) c.out.write(`${line}\n`);
    last = line;
    if (w.status !== 'running') break;
    await sleep(pollMs);
    try {
      w = await c.api.getWorkflow(w.id);
      failures = 0;
    } catch (err) {
      const passing = err instanceof ServerUnreachableError || (err instanceof ApiError && err.retryable);
      if (!passing || ++failures >= MAX_POLL_FAILURES) throw err;
    }
  }
  print(c, w);
  return w.status === 'succeeded' ? 0 : 1;
}

async function readDefinition(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON (${(err as Error).message})`);
  }
}

function rest(args: ClientArgs): ClientArgs {
  return { ...args, positionals: args.positionals.slice(1) };
}

/** `workflow submit FILE [--wait] | get ID [--wait] | cancel ID | list [--status S] [--limit N] [--cursor C]`. */
export async function workflow(c: CommandContext): Promise<number> {
  const sub = c.args.positionals[0];
  const args = rest(c.args);
  const cc = { ...c, args };
  switch (sub) {
    case 'submit': {
      checkKnownOptions(args, ['idempotency-key', 'poll-ms']);
      const body = await readDefinition(onePositional(args, 'workflow file (JSON)'));
      const w = await c.api.submitWorkflow(body, args.options.get('idempotency-key'));
      if (args.flags.has('wait')) return follow(cc, w);
      print(cc, w);
      return 0;
    }
    case 'get': {
      checkKnownOptions(args, ['poll-ms']);
      const w = await c.api.getWorkflow(onePositional(args, 'workflow id'));
      if (args.flags.has('wait')) return follow(cc, w);
      print(cc, w);
      return 0;
    }
    case 'cancel': {
      checkKnownOptions(args, []);
      print(cc, await c.api.cancelWorkflow(onePositional(args, 'workflow id')));
      return 0;
    }
    case 'list': {
      checkKnownOptions(args, ['status', 'limit', 'cursor']);
      if (args.positionals.length > 0) throw new UsageError(`workflow list takes no arguments, got "${args.positionals[0]}"`);
      const status = args.options.get('status');
      const limit = intOption(args, 'limit', 1, 1000);
      const cursor = args.options.get('cursor');
      // The server checks the status and names the ones it knows.
      const page = await c.api.listWorkflows({ ...(status ? { status: status as ApiWorkflow['status'] } : {}), ...(limit !== undefined ? { limit } : {}), ...(cursor ? { cursor } : {}) });
      if (c.json) {
        printJson(c.out, page);
        return 0;
      }
      c.out.write(page.items.length ? page.items.map((w) => `${w.id}  ${w.status.padEnd(9)}  ${w.createdAt}  ${printable(w.name ?? '')}`).join('\n') + '\n' : 'no workflows\n');
      if (page.nextCursor) c.out.write(`more: --cursor ${page.nextCursor}\n`);
      return 0;
    }
    default:
      throw new UsageError(sub === undefined ? 'workflow needs a subcommand: submit, get, cancel or list' : `unknown workflow subcommand "${sub}" (submit, get, cancel, list)`);
  }
}
