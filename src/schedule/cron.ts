import { CronExpressionParser } from 'cron-parser';

/** A cron expression in the time zone its wall-clock fields are read in. */
export interface CronSpec {
  cron: string;
  timezone: string;
}

/**
 * Why a cron expression is refused, or undefined when it is a valid one of 5 fields (minute
 * precision) or 6 (with seconds first). Aliases such as `@daily` are refused: the field count is
 * what tells a reader whether seconds are meant.
 */
export function cronProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return `expected 5 fields (minute hour day month weekday) or 6 (with seconds first), got ${fields.length}`;
  try {
    CronExpressionParser.parse(cron, { tz: 'UTC' });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Whether `timezone` is an IANA zone name this runtime knows (`Europe/Berlin`, `UTC`). */
export function isKnownTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

function expressionAt(spec: CronSpec, atMs: number) {
  return CronExpressionParser.parse(spec.cron, { tz: spec.timezone, currentDate: new Date(atMs) });
}

/** The first tick strictly after `afterMs`, in ms since the epoch. */
export function nextTickAfter(spec: CronSpec, afterMs: number): number {
  return expressionAt(spec, afterMs).next().getTime();
}

/** The last tick at or before `atMs`. */
export function latestTickAtOrBefore(spec: CronSpec, atMs: number): number {
  // The library's prev() is strictly before its current date.
  return expressionAt(spec, atMs + 1).prev().getTime();
}
