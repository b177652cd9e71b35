// The schedule list: name, cron and time zone, paused, next run, last run and run counts.

import { h, patchChildren } from './dom.js';
import { ago, dateTime, shortId } from './format.js';
import { readError } from './workflow-list.js';

const PAGE = 100;

/** "in 12 s", "in 3 min", then the date and time. */
export function untilText(iso, now = Date.now()) {
  if (!iso) return '';
  const ms = Date.parse(iso) - now;
  if (!Number.isFinite(ms)) return '';
  if (ms < 1000) return 'due now';
  if (ms < 60_000) return `in ${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `in ${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `in ${Math.round(ms / 3_600_000)} h`;
  return dateTime(iso);
}

export class ScheduleList {
  #items = [];
  #nextCursor = null;
  #loaded = false;
  #error = '';
  #open = false;
  #highlight = null;

  constructor({ root, api }) {
    this.root = root;
    this.api = api;
    root.addEventListener('click', (e) => {
      if (e.target.closest('#sched-load-more')) void this.#loadMore();
    });
  }

  get isOpen() {
    return this.#open;
  }

  /** Opens the list; `highlight` marks one schedule's row (a task's link to its schedule). */
  open(highlight = null) {
    this.#open = true;
    this.#highlight = highlight;
    document.title = 'Schedules — an-ki';
    this.render();
    void this.refresh().then(() => {
      if (highlight) this.root.querySelector(`tr[data-id="${highlight}"]`)?.scrollIntoView({ block: 'center' });
    });
  }

  close() {
    this.#open = false;
  }

  async refresh() {
    try {
      const r = await this.api.get(`/schedules?limit=${Math.min(500, Math.max(PAGE, this.#items.length))}`);
      this.#items = r.items;
      this.#nextCursor = r.nextCursor;
      this.#error = '';
    } catch (err) {
      this.#error = readError('schedules', err);
    }
    this.#loaded = true;
    this.render();
  }

  async #loadMore() {
    if (!this.#nextCursor) return;
    try {
      const r = await this.api.get(`/schedules?limit=${PAGE}&cursor=${encodeURIComponent(this.#nextCursor)}`);
      const seen = new Set(this.#items.map((s) => s.id));
      this.#items.push(...r.items.filter((s) => !seen.has(s.id)));
      this.#nextCursor = r.nextCursor;
    } catch (err) {
      this.#error = readError('schedules', err);
    }
    this.render();
  }

  render() {
    if (!this.#open) return;
    const now = Date.now();
    const n = this.#items.length;
    patchChildren(this.root,
      h('header', { class: 'panel-head' },
        h('h2', { id: 'schedules-title', tabindex: '-1' }, 'Schedules'),
        h('span', { class: 'muted small', 'aria-live': 'polite' }, this.#loaded && !this.#error ? `${n}${this.#nextCursor ? '+' : ''} schedule${n === 1 ? '' : 's'}` : '')),
      this.#error ? h('p', { class: 'form-error', role: 'alert', id: 'schedules-error' }, this.#error) : null,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'tasks', id: 'schedules-table' },
          h('caption', { class: 'visually-hidden' }, 'Cron schedules, newest first.'),
          h('thead', null, h('tr', null,
            h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Cron'), h('th', { scope: 'col' }, 'Time zone'), h('th', { scope: 'col' }, 'State'),
            h('th', { scope: 'col' }, 'Next run'), h('th', { scope: 'col' }, 'Last run'), h('th', { scope: 'col', class: 'num' }, 'Runs'))),
          h('tbody', { id: 'schedules-body' }, this.#items.map((s) => this.#row(s, now))))),
      this.#loaded && !n && !this.#error ? h('p', { class: 'empty muted' }, 'No schedules yet.') : null,
      this.#nextCursor ? h('div', { class: 'more' }, h('button', { type: 'button', class: 'btn', id: 'sched-load-more' }, 'Load more')) : null);
  }

  #row(s, now) {
    const last = s.lastRun;
    return h('tr', { 'data-key': s.id, 'data-id': s.id, id: `schedule-${s.id}`, class: s.id === this.#highlight ? 'is-current' : null, 'aria-current': s.id === this.#highlight ? 'true' : null },
      h('td', { class: 'type', title: `${s.name} (${s.id}), owner ${s.owner}` }, s.name),
      h('td', { class: 'mono' }, s.cron),
      h('td', null, s.timezone),
      h('td', null, s.paused ? h('span', { class: 'chip ts-paused' }, 'paused') : h('span', { class: 'chip ts-succeeded' }, 'active')),
      h('td', { class: 'next-run' }, s.nextRunAt ? h('time', { datetime: s.nextRunAt, title: dateTime(s.nextRunAt) }, untilText(s.nextRunAt, now)) : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'last-run' }, last
        ? [last.outcome === 'created' ? 'created ' : h('span', { class: 'chip chip-warn' }, 'skipped: overlap'), last.taskId ? h('a', { href: `#/tasks/${last.taskId}`, class: 'mono' }, shortId(last.taskId)) : null,
          h('span', { class: 'muted' }, ' · '), h('time', { datetime: last.tickAt, title: dateTime(last.tickAt) }, ago(last.tickAt, now))]
        : h('span', { class: 'muted' }, 'never')),
      h('td', { class: 'num', title: `${s.runs.created} created, ${s.runs.skippedOverlap} skipped (overlap)` }, `${s.runs.created}`, s.runs.skippedOverlap ? h('span', { class: 'muted' }, ` +${s.runs.skippedOverlap} skipped`) : null));
  }
}
