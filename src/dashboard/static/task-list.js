// The task list: filters, newest first, live status changes, "load more".

import { tasksPath } from './api.js';
import { flash, h, patchChildren, statusChip, TERMINAL } from './dom.js';
import { ago, between, dateTime, duration, percent, shortId } from './format.js';

const PAGE = 50;
const MAX_REFRESH = 500;

/** Time spent so far: finished − started, or now − started while it runs. */
export function taskDuration(t, now = Date.now()) {
  if (t.finishedAt) return between(t.startedAt ?? t.createdAt, t.finishedAt);
  if (t.startedAt && t.status === 'running') return now - Date.parse(t.startedAt);
  return null;
}

export class TaskList {
  #items = [];
  #nextCursor = null;
  #pages = 1;
  #generation = 0;
  #refreshTimer = null;
  #inputTimer = null;
  #loadedOnce = false;

  constructor({ api, showOwner, onTypesSeen }) {
    this.api = api;
    this.onTypesSeen = onTypesSeen;
    this.form = document.getElementById('filters');
    this.body = document.getElementById('tasks-body');
    this.count = document.getElementById('tasks-count');
    this.empty = document.getElementById('tasks-empty');
    this.more = document.getElementById('load-more');
    this.error = document.getElementById('tasks-error');
    document.getElementById('owner-field').hidden = !showOwner;
    document.getElementById('tasks-table').classList.toggle('hide-owner', !showOwner);
    this.showOwner = showOwner;

    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.#filtersChanged(); });
    this.form.addEventListener('change', () => this.#filtersChanged());
    this.form.addEventListener('input', (e) => {
      if (e.target.tagName !== 'INPUT') return;
      clearTimeout(this.#inputTimer);
      this.#inputTimer = setTimeout(() => this.#filtersChanged(), 350);
    });
    this.form.addEventListener('reset', () => setTimeout(() => this.#filtersChanged(), 0));
    this.more.addEventListener('click', () => void this.loadMore());
    // A click anywhere on a row opens it; the link in the first cell is what keyboards use.
    this.body.addEventListener('click', (e) => {
      const row = e.target.closest('tr[data-id]');
      if (!row || e.target.closest('a, button') || window.getSelection()?.toString()) return;
      location.hash = `#/tasks/${row.dataset.id}`;
    });
  }

  filters() {
    const f = new FormData(this.form);
    const get = (k) => String(f.get(k) ?? '').trim();
    return { status: get('status'), type: get('type'), owner: this.showOwner ? get('owner') : '' };
  }

  /** Fills the form from the page address (`#/?status=…`) and loads when that changed anything. */
  setFilters(params) {
    const wanted = { status: params.get('status') ?? '', type: params.get('type') ?? '', owner: params.get('owner') ?? '' };
    const current = this.filters();
    const changed = wanted.status !== current.status || wanted.type !== current.type || (this.showOwner && wanted.owner !== current.owner);
    this.form.elements.status.value = wanted.status;
    this.form.elements.type.value = wanted.type;
    this.form.elements.owner.value = wanted.owner;
    if (changed || !this.#loadedOnce) void this.refresh();
  }

  #filtersChanged() {
    const q = new URLSearchParams(Object.entries(this.filters()).filter(([, v]) => v));
    const hash = q.toString() ? `#/?${q}` : '#/';
    if (location.hash !== hash) history.replaceState(null, '', hash);
    this.#pages = 1;
    void this.refresh();
  }

  /** Reloads what is shown (as many rows as are loaded, up to a limit). */
  async refresh() {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = null;
    const generation = ++this.#generation;
    const limit = Math.min(MAX_REFRESH, PAGE * this.#pages);
    try {
      const r = await this.api.get(tasksPath({ ...this.filters(), limit }));
      if (generation !== this.#generation) return; // a newer request is under way
      this.#loadedOnce = true;
      const before = new Map(this.#items.map((t) => [t.id, t.status]));
      this.#items = r.items;
      this.#nextCursor = r.nextCursor;
      this.error.textContent = '';
      this.render();
      for (const t of this.#items) {
        const was = before.get(t.id);
        if (before.size && was !== t.status) flash(this.body.querySelector(`tr[data-id="${t.id}"]`));
      }
      this.onTypesSeen?.(this.#items.map((t) => t.type));
    } catch (err) {
      if (generation !== this.#generation) return;
      this.error.textContent = `Tasks could not be loaded: ${err.message}`;
    }
  }

  /** A refresh soon, merging bursts of events into one request. */
  scheduleRefresh(delayMs = 400) {
    if (this.#refreshTimer) return;
    this.#refreshTimer = setTimeout(() => void this.refresh(), delayMs);
  }

  async loadMore() {
    if (!this.#nextCursor) return;
    this.more.disabled = true;
    try {
      const r = await this.api.get(tasksPath({ ...this.filters(), limit: PAGE, cursor: this.#nextCursor }));
      const seen = new Set(this.#items.map((t) => t.id));
      this.#items.push(...r.items.filter((t) => !seen.has(t.id)));
      this.#nextCursor = r.nextCursor;
      this.#pages++;
      this.render();
    } catch (err) {
      this.error.textContent = `More tasks could not be loaded: ${err.message}`;
    } finally {
      this.more.disabled = false;
    }
  }

  /** A `task` event: show the new status at once, then reload the page for the full row. */
  applyEvent(update) {
    const t = this.#items.find((x) => x.id === update.id);
    if (t) {
      const changed = t.status !== update.status;
      for (const k of ['status', 'attempts', 'an', 'ki', 'progress', 'finishedAt', 'updatedAt']) if (update[k] !== undefined) t[k] = update[k];
      this.render();
      if (changed) flash(this.body.querySelector(`tr[data-id="${t.id}"]`));
    }
    this.scheduleRefresh();
  }

  hasActive() {
    return this.#items.some((t) => !TERMINAL.has(t.status));
  }

  render() {
    const now = Date.now();
    patchChildren(this.body, this.#items.map((t) => this.#row(t, now)));
    const n = this.#items.length;
    const count = this.#loadedOnce ? `${n}${this.#nextCursor ? '+' : ''} task${n === 1 ? '' : 's'}` : '';
    // A live region: rewriting the same words would have them read out again every second.
    if (this.count.textContent !== count) this.count.textContent = count;
    this.empty.hidden = !this.#loadedOnce || n > 0;
    this.more.hidden = !this.#nextCursor;
  }

  #row(t, now) {
    const progress = t.status === 'running' && t.progress ? percent(t.progress.fraction) : '';
    const ran = t.ki || t.an;
    const d = taskDuration(t, now);
    return h('tr', { 'data-key': t.id, 'data-id': t.id, class: `task-row ts-row-${t.status}` },
      h('td', { class: 'mono' }, h('a', { href: `#/tasks/${t.id}`, 'aria-label': `Task ${t.id}, ${t.status}` }, shortId(t.id))),
      h('td', { class: 'type' }, t.type),
      h('td', null, statusChip(t.status, progress)),
      h('td', { class: 'col-owner' }, t.owner),
      h('td', { class: 'ran-on', title: t.an || t.ki ? `An ${t.an ?? '—'} · Ki ${t.ki ?? '—'}` : null }, ran ? [t.ki ? h('span', null, t.ki) : null, t.an ? h('span', { class: 'muted' }, t.ki ? ` · ${t.an}` : t.an) : null] : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'num' }, `${t.attempts}/${t.maxAttempts}`),
      h('td', { class: 'col-created' }, h('time', { datetime: t.createdAt, title: dateTime(t.createdAt) }, ago(t.createdAt, now))),
      h('td', { class: 'num' }, d === null ? h('span', { class: 'muted' }, '—') : duration(d)));
  }
}
