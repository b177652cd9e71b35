// Formatting of times, durations, sizes and ids.

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export const shortId = (id) => (id ? String(id).slice(0, 8) : '');

/** "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const m = Math.round(s / 60);
  if (m < 48 * 60) return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(m / 1440)} d ${Math.floor((m % 1440) / 60)} h`;
}

/** "just now", "12 s ago", "3 min ago", then the time of day or the date. */
export function ago(iso, now = Date.now()) {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const s = Math.round((now - t) / 1000);
  if (s < 3) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400 && new Date(t).toDateString() === new Date(now).toDateString()) return timeFmt.format(t);
  return dateTimeFmt.format(t);
}

export function dateTime(iso) {
  if (!iso) return '';
  const t = Date.parse(iso);
  return Number.isFinite(t) ? dateTimeFmt.format(t) : '';
}

const preciseTimeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3 });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** Time of day to the millisecond, with the date in front when it is not today. */
export function preciseTime(iso, now = Date.now()) {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const sameDay = new Date(t).toDateString() === new Date(now).toDateString();
  return `${sameDay ? '' : `${shortDateFmt.format(t)}, `}${preciseTimeFmt.format(t)}`;
}

export function between(fromIso, toIso) {
  if (!fromIso || !toIso) return null;
  return Date.parse(toIso) - Date.parse(fromIso);
}

/** Memory given in MiB: "512 MiB", "39.5 GiB". */
export function mib(n) {
  if (!Number.isFinite(n)) return '';
  return n >= 1024 ? `${(n / 1024).toFixed(n >= 10_240 ? 0 : 1)} GiB` : `${Math.round(n)} MiB`;
}

export const percent = (fraction) => `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;

/** Ids such as ki2 before ki10. */
export const byId = (a, b) => a.id.localeCompare(b.id, undefined, { numeric: true });

/** JSON for display, cut at `max` characters. */
export function prettyJson(value, max = 20_000) {
  let text;
  try {
    text = JSON.stringify(value, null, 2);
  } catch {
    text = String(value);
  }
  if (text === undefined) text = 'null';
  return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text;
}
