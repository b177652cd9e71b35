import type { ApiClusterSummary } from './api-types';
import { checkKnownOptions, intOption, UsageError, type ClientArgs } from './args';
import type { CommandContext } from './commands';
import { formatTaskDetail } from './format';
import { printable } from './table';
import { printJson } from './output';


/** The positionals a command needs, in order; a missing or extra one is bad usage. */
function positionals(args: ClientArgs, names: readonly string[]): string[] {
  if (args.positionals.length !== names.length) throw new UsageError(names.length ? `expected ${names.join(' and ')}` : `takes no arguments, got "${args.positionals[0]}"`);
  return args.positionals;
}

/** `delete ID`: deletes a task with its payload and result (an unfinished one is cancelled first). */
export async function deleteTask(c: CommandContext): Promise<number> {
  checkKnownOptions(c.args, []);
  const [id] = positionals(c.args, ['a task id']);
  await c.api.deleteTask(id!);
  if (c.json) printJson(c.out, { id, deleted: true });
  else c.out.write(`deleted ${id}\n`);
  return 0;
}

/** `priority ID N`: a queued or scheduled task's new priority (0-9). */
export async function setPriority(c: CommandContext): Promise<number> {
  checkKnownOptions(c.args, []);
  const [id, raw] = positionals(c.args, ['a task id', 'a priority (0-9)']);
  const priority = intOption({ ...c.args, options: new Map([['priority', raw!]]) }, 'priority', 0, 9)!;
  const task = await c.api.setTaskPriority(id!, priority);
  if (c.json) printJson(c.out, task);
  else c.out.write(formatTaskDetail(task));
  return 0;
}

/** `release NODE`: an admin lets a quarantined Ki take work again. */
export async function releaseNode(c: CommandContext): Promise<number> {
  checkKnownOptions(c.args, []);
  const [id] = positionals(c.args, ['a node id']);
  const out = await c.api.releaseNode(id!);
  if (c.json) printJson(c.out, out);
  else c.out.write(`released ${printable(id!)}: it may take work again\n`);
  return 0;
}

/** The cluster summary as `key  value` lines. */
export function formatCluster(s: ApiClusterSummary): string {
  const counts = (o: Record<string, number | undefined> | null) => (o ? Object.entries(o).map(([k, v]) => `${k} ${v ?? 0}`).join(', ') || '-' : 'unknown');
  const lines = [
    ['leader', s.leader ? `${printable(s.leader.id)} (term ${s.leader.term})` : 'none'],
    ['this principal', printable(s.self)],
    ...Object.entries(s.nodes).map(([role, byStatus]) => [`${role} nodes`, counts(byStatus)]),
    ['tasks', counts(s.tasks)],
    ['pending', counts(s.queues)],
    ...s.groups.map((g) => [`group ${printable(g.group)}`, `${g.an.length} An, ${g.ki.length} Ki`]),
  ];
  const width = Math.max(...lines.map(([k]) => k!.length));
  return lines.map(([k, v]) => `${k!.padEnd(width)}  ${v}\n`).join('');
}

/** `cluster`: leader, member and task counts, queue depths, groups. */
export async function cluster(c: CommandContext): Promise<number> {
  checkKnownOptions(c.args, []);
  positionals(c.args, []);
  const summary = await c.api.getCluster();
  if (c.json) printJson(c.out, summary);
  else c.out.write(formatCluster(summary));
  return 0;
}
