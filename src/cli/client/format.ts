import type { ApiNode, ApiTask, ApiTaskListItem } from './api-types';
import { formatKeyValues, formatTable } from './table';

/** `1.2s`, `350ms`, `4m05s`, `2h03m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** How long ago an ISO time was, from `nowMs`. */
export function formatAge(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return '-';
  const at = Date.parse(iso);
  return Number.isNaN(at) ? '-' : `${formatDuration(Math.max(0, nowMs - at))} ago`;
}

/** A UTC time without milliseconds: `2024-05-01 12:00:03Z`. */
export function formatTime(iso: string | null | undefined): string | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** A fraction as a whole percent, floored so 99.9% never shows as done: `42%`. */
export function formatPercent(fraction: number): string {
  return `${Math.floor(Math.max(0, Math.min(1, fraction)) * 100)}%`;
}

/** JSON on one line when it is short, indented when it is not. */
export function formatJsonValue(value: unknown, maxInline = 100): string {
  const inline = JSON.stringify(value) ?? 'null';
  return inline.length <= maxInline ? inline : JSON.stringify(value, null, 2);
}

function runTime(t: ApiTaskListItem): string | undefined {
  if (!t.startedAt || !t.finishedAt) return undefined;
  return formatDuration(Date.parse(t.finishedAt) - Date.parse(t.startedAt));
}

/** Everything about one task, as `key  value` lines. */
export function formatTaskDetail(t: ApiTask): string {
  const done = t.status === 'succeeded' || t.status === 'failed' || t.status === 'cancelled';
  return formatKeyValues([
    ['id', t.id],
    ['type', t.type],
    ['status', t.status],
    ['priority', String(t.priority)],
    ['attempts', `${t.attempts}/${t.maxAttempts}`],
    ['owner', t.owner],
    ['an', t.an ?? undefined],
    ['ki', t.ki ?? undefined],
    ['gpus', t.requirements?.gpus ? String(t.requirements.gpus) : undefined],
    ['schedule', t.scheduleId ? `${t.scheduleId} (tick ${formatTime(t.scheduleTickAt) ?? '-'})` : undefined],
    ['created', formatTime(t.createdAt)],
    ['run at', formatTime(t.runAt)],
    ['started', formatTime(t.startedAt)],
    ['finished', formatTime(t.finishedAt)],
    ['ran', runTime(t)],
    ['progress', !done && t.progress ? `${formatPercent(t.progress.fraction)}${t.progress.message ? ` ${t.progress.message}` : ''}` : undefined],
    ['result', t.status === 'succeeded' ? formatJsonValue(t.result) : undefined],
    ['error', t.error ? `${t.error.code}: ${t.error.message}` : undefined],
  ]);
}

/** When a scheduled task is due: `in 4m05s`, or `due` once its time has come (the leader queues it). */
export function formatDue(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return '-';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '-';
  return at > nowMs ? `in ${formatDuration(at - nowMs)}` : 'due';
}

/** One line per task, newest first as the server sends them; RUN AT only for the scheduled ones. */
export function formatTaskTable(tasks: readonly ApiTaskListItem[], nowMs: number): string {
  return formatTable(
    [{ header: 'ID' }, { header: 'TYPE', maxWidth: 24 }, { header: 'STATUS' }, { header: 'PRI', right: true }, { header: 'ATTEMPTS', right: true }, { header: 'OWNER', maxWidth: 24 }, { header: 'CREATED' }, { header: 'RAN' }, { header: 'RUN AT' }],
    tasks.map((t) => [
      t.id, t.type, t.status, String(t.priority), `${t.attempts}/${t.maxAttempts}`, t.owner, formatAge(t.createdAt, nowMs), runTime(t) ?? '-',
      t.status === 'scheduled' && t.runAt ? `${formatTime(t.runAt) ?? '-'} (${formatDue(t.runAt, nowMs)})` : '-',
    ]),
  );
}

function gpusOf(n: ApiNode): string {
  if (!n.gpus || n.gpus.length === 0) return '-';
  const names = [...new Set(n.gpus.map((g) => g.name))];
  return `${n.gpus.length} (${names.join(', ')})`;
}

/** The cluster's members: who they are, their state and capacity, when each was last heard. */
export function formatNodeTable(nodes: readonly ApiNode[], nowMs: number): string {
  return formatTable(
    [{ header: 'ID', maxWidth: 40 }, { header: 'ROLE' }, { header: 'STATUS' }, { header: 'GROUP', maxWidth: 32 }, { header: 'SLOTS', right: true }, { header: 'GPUS', maxWidth: 40 }, { header: 'LAST SEEN' }],
    nodes.map((n) => [
      n.id,
      n.leader ? `${n.role} (leader)` : n.role,
      n.quarantined ? `${n.status}, quarantined` : n.status,
      n.group || '-',
      n.slots && n.slots.total > 0 ? `${n.slots.busy}/${n.slots.total}` : '-',
      gpusOf(n),
      formatAge(n.lastSeen, nowMs),
    ]),
  );
}
