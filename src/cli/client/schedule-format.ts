import { formatAge, formatJsonValue, formatTime } from './format';
import type { ApiSchedule } from './schedule-types';
import { formatKeyValues, formatTable } from './table';

function lastRunOf(s: ApiSchedule): string | undefined {
  if (!s.lastRun) return undefined;
  const what = s.lastRun.outcome === 'created' ? `task ${s.lastRun.taskId ?? '-'}` : 'skipped (previous task still running)';
  return `${formatTime(s.lastRun.tickAt)} ${what}`;
}

/** Everything about one schedule, as `key  value` lines. */
export function formatScheduleDetail(s: ApiSchedule): string {
  return formatKeyValues([
    ['id', s.id],
    ['name', s.name],
    ['owner', s.owner],
    ['cron', `${s.cron} (${s.timezone})`],
    ['state', s.paused ? 'paused' : 'active'],
    ['overlap', s.overlap],
    ['catchup', s.catchup],
    ['next run', formatTime(s.nextRunAt)],
    ['last run', lastRunOf(s)],
    ['runs', `${s.runs.created} created, ${s.runs.skippedOverlap} skipped`],
    ['task', formatJsonValue(s.task)],
    ['created', formatTime(s.createdAt)],
  ]);
}

/** One line per schedule, newest first as the server sends them. */
export function formatScheduleTable(items: readonly ApiSchedule[], nowMs: number): string {
  return formatTable(
    [{ header: 'ID' }, { header: 'NAME', maxWidth: 32 }, { header: 'CRON', maxWidth: 32 }, { header: 'TZ', maxWidth: 24 }, { header: 'STATE' }, { header: 'NEXT RUN' }, { header: 'RUNS', right: true }, { header: 'CREATED' }],
    items.map((s) => [s.id, s.name, s.cron, s.timezone, s.paused ? 'paused' : 'active', formatTime(s.nextRunAt) ?? '-', String(s.runs.created), formatAge(s.createdAt, nowMs)]),
  );
}
