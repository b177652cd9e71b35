import { checkKnownOptions, intOption, UsageError } from './args';
import type { CommandContext } from './commands';
import { formatScheduleDetail, formatScheduleTable } from './schedule-format';
import type { ApiSchedule, CreateScheduleBody } from './schedule-types';

/** What `schedule` does with its first argument. */
export const SCHEDULE_ACTIONS = ['create', 'list', 'get', 'pause', 'resume', 'delete'] as const;
type ScheduleAction = (typeof SCHEDULE_ACTIONS)[number];

function print(c: CommandContext, s: ApiSchedule): void {
  c.out.write(c.json ? `${JSON.stringify(s, null, 2)}\n` : formatScheduleDetail(s));
}

/** The schedule id, the one argument after the action. */
function idOf(c: CommandContext): string {
  if (c.args.positionals.length !== 2) throw new UsageError(`schedule ${c.args.positionals[0]} needs exactly one schedule id`);
  return c.args.positionals[1]!;
}

function jsonOption(c: CommandContext, name: string): unknown {
  const raw = c.args.options.get(name);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw new UsageError(`--${name} is not valid JSON (${(err as Error).message}); quote it, e.g. --${name} '{"x":1}'`);
  }
}

async function create(c: CommandContext): Promise<number> {
  checkKnownOptions(c.args, ['name', 'cron', 'timezone', 'overlap', 'catchup', 'type', 'payload', 'priority', 'timeout-ms', 'max-attempts', 'idempotency-key']);
  if (c.args.positionals.length > 1) throw new UsageError(`schedule create takes no arguments, got "${c.args.positionals[1]}"`);
  const name = c.args.options.get('name');
  const cron = c.args.options.get('cron');
  const type = c.args.options.get('type');
  if (!name || !cron || !type) throw new UsageError('schedule create needs --name, --cron and --type (e.g. --name nightly --cron "0 3 * * *" --type echo)');
  const payload = jsonOption(c, 'payload');
  const priority = intOption(c.args, 'priority', 0, 9);
  const timeoutMs = intOption(c.args, 'timeout-ms', 1, 7 * 24 * 3600 * 1000);
  const maxAttempts = intOption(c.args, 'max-attempts', 1, 100);
  const optional = (key: string) => { const v = c.args.options.get(key); return v !== undefined ? { [key]: v } : {}; };
  const body: CreateScheduleBody = {
    name, cron, ...optional('timezone'), ...optional('overlap'), ...optional('catchup'),
    task: {
      type, ...(payload !== undefined ? { payload } : {}), ...(priority !== undefined ? { priority } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    },
  };
  print(c, await c.api.createSchedule(body, c.args.options.get('idempotency-key')));
  return 0;
}

async function list(c: CommandContext): Promise<number> {
  checkKnownOptions(c.args, ['limit', 'cursor']);
  if (c.args.positionals.length > 1) throw new UsageError(`schedule list takes no arguments, got "${c.args.positionals[1]}"`);
  const limit = intOption(c.args, 'limit', 1, 1000);
  const cursor = c.args.options.get('cursor');
  const page = await c.api.listSchedules({ ...(limit !== undefined ? { limit } : {}), ...(cursor ? { cursor } : {}) });
  if (c.json) c.out.write(`${JSON.stringify(page, null, 2)}\n`);
  else {
    c.out.write(page.items.length ? formatScheduleTable(page.items, c.now()) : 'no schedules\n');
    if (page.nextCursor) c.out.write(`more: --cursor ${page.nextCursor}\n`);
  }
  return 0;
}

async function byId(c: CommandContext, action: Exclude<ScheduleAction, 'create' | 'list'>): Promise<number> {
  checkKnownOptions(c.args, []);
  const id = idOf(c);
  if (action === 'delete') {
    await c.api.deleteSchedule(id);
    c.out.write(c.json ? `${JSON.stringify({ id, deleted: true })}\n` : `deleted schedule ${id}\n`);
    return 0;
  }
  print(c, action === 'get' ? await c.api.getSchedule(id) : await c.api.setSchedulePaused(id, action === 'pause'));
  return 0;
}

/** `schedule create|list|get|pause|resume|delete`. */
export async function schedule(c: CommandContext): Promise<number> {
  const action = c.args.positionals[0];
  if (!action || !(SCHEDULE_ACTIONS as readonly string[]).includes(action)) throw new UsageError(`schedule needs one of ${SCHEDULE_ACTIONS.join(', ')}${action ? `, got "${action}"` : ''}`);
  const a = action as ScheduleAction;
  if (a === 'create') return create(c);
  if (a === 'list') return list(c);
  return byId(c, a);
}
