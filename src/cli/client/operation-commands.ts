import type { ApiDeadLetter, ApiTenant, TenantSettingsBody } from './api-types';
import { checkKnownOptions, intOption, onePositional, UsageError } from './args';
import type { CommandContext } from './commands';
import { formatAge, formatTaskDetail } from './format';
import { formatTable, printable } from './table';
import { printJson } from './output';

/** The operator's commands: retry, dead letters, node operations, tenants. */


/** `retry ID`: a failed task runs again under its id. */
export async function retry(c: CommandContext): Promise<number> {
  checkKnownOptions(c.args, []);
  const task = await c.api.retryTask(onePositional(c.args, 'task id'));
  if (c.json) printJson(c.out, task);
  else c.out.write(formatTaskDetail(task));
  return 0;
}

function formatDeadLetters(items: readonly ApiDeadLetter[], nowMs: number): string {
  return formatTable(
    [{ header: 'ID' }, { header: 'TASK' }, { header: 'REASON' }, { header: 'ERROR', maxWidth: 60 }, { header: 'COUNT', right: true }, { header: 'LAST SEEN' }],
    items.map((d) => [d.id, d.taskId ?? '-', d.reason, d.error ? `${d.error.code ?? ''} ${d.error.message ?? ''}`.trim() : d.messageType, String(d.count), formatAge(d.lastSeenAt, nowMs)]),
  );
}

/** `dead-letters [list] [--limit N] [--cursor C]`, `dead-letters redrive ID`, `dead-letters delete ID`. */
export async function deadLetters(c: CommandContext): Promise<number> {
  const [action = 'list', id, extra] = c.args.positionals;
  if (extra !== undefined || (action === 'list' ? id !== undefined : id === undefined)) throw new UsageError('dead-letters [list] | redrive ID | delete ID');
  if (action === 'list') {
    checkKnownOptions(c.args, ['limit', 'cursor']);
    const limit = intOption(c.args, 'limit', 1, 1000);
    const cursor = c.args.options.get('cursor');
    const page = await c.api.listDeadLetters({ ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) });
    if (c.json) printJson(c.out, page);
    else c.out.write(`${page.items.length ? formatDeadLetters(page.items, c.now()) : 'no dead letters\n'}${page.nextCursor ? `next page: --cursor ${page.nextCursor}\n` : ''}`);
    return 0;
  }
  checkKnownOptions(c.args, []);
  if (action === 'redrive') {
    const out = await c.api.redriveDeadLetter(id!);
    if (c.json) printJson(c.out, out);
    else c.out.write(`re-driven: task ${out.task.id} is ${out.task.status} again\n`);
    return 0;
  }
  if (action === 'delete') {
    await c.api.deleteDeadLetter(id!);
    if (c.json) printJson(c.out, { id, deleted: true });
    else c.out.write(`deleted dead letter ${id}\n`);
    return 0;
  }
  throw new UsageError(`dead-letters: unknown action "${printable(action)}" (list, redrive or delete)`);
}

/** `cordon NODE`, `drain NODE`, `uncordon NODE` (`--reason TEXT` for the next operator). */
function nodeOperation(verb: 'cordon' | 'drain' | 'uncordon') {
  return async (c: CommandContext): Promise<number> => {
    checkKnownOptions(c.args, ['reason']);
    const out = await c.api.operateNode(verb, onePositional(c.args, 'node id'), c.args.options.get('reason'));
    if (c.json) printJson(c.out, out);
    else c.out.write(`${printable(out.id)} (${printable(out.stableId)}): ${out.state}${out.drained ? ', drained' : ''}\n`);
    return 0;
  };
}
export const cordon = nodeOperation('cordon');
export const drain = nodeOperation('drain');
export const uncordon = nodeOperation('uncordon');

const limitText = (n: number | null) => (n === null ? '-' : String(n));

function formatTenants(items: readonly ApiTenant[]): string {
  return formatTable(
    [{ header: 'TENANT' }, { header: 'WEIGHT', right: true }, { header: 'QUEUED', right: true }, { header: 'HELD', right: true }, { header: 'RUNNING', right: true },
      { header: 'MAX RUNNING', right: true }, { header: 'MAX QUEUED', right: true }, { header: 'GPU-S', right: true }, { header: 'BUDGET', right: true }],
    items.map((t) => [t.name, String(t.weight), String(t.queued), String(t.held), String(t.running), limitText(t.maxRunning), limitText(t.maxQueued), t.gpuSeconds.toFixed(1), limitText(t.gpuSecondsBudget)]),
  );
}

/** A cap option: a whole number, or `none` for no cap. */
function capOption(c: CommandContext, name: string): number | null {
  const raw = c.args.options.get(name);
  if (raw === undefined || raw === 'none') return null;
  return intOption(c.args, name, 0, 1_000_000_000)!;
}

/** `tenants` lists; `tenants set NAME [--weight N] [--max-running N|none] [--max-queued N|none] [--gpu-seconds-budget N|none]` (admin). */
export async function tenants(c: CommandContext): Promise<number> {
  const [action = 'list', name, extra] = c.args.positionals;
  if (action === 'list' && name === undefined) {
    checkKnownOptions(c.args, []);
    const { items } = await c.api.listTenants();
    if (c.json) printJson(c.out, { items });
    else c.out.write(items.length ? formatTenants(items) : 'no tenants\n');
    return 0;
  }
  if (action !== 'set' || name === undefined || extra !== undefined) throw new UsageError('tenants [list] | set NAME [--weight N] [--max-running N] [--max-queued N] [--gpu-seconds-budget N]');
  checkKnownOptions(c.args, ['weight', 'max-running', 'max-queued', 'gpu-seconds-budget']);
  const settings: TenantSettingsBody = {
    weight: intOption(c.args, 'weight', 1, 1000) ?? 1,
    maxRunning: capOption(c, 'max-running'),
    maxQueued: capOption(c, 'max-queued'),
    gpuSecondsBudget: capOption(c, 'gpu-seconds-budget'),
  };
  const t = await c.api.setTenant(name, settings);
  if (c.json) printJson(c.out, t);
  else c.out.write(formatTenants([t]));
  return 0;
}
