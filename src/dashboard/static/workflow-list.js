// The workflow list: a status filter, newest first, "load more" by cursor; re-read while any runs.

import { ApiError } from './api.js';
import { h, patchChildren } from './dom.js';
import { ago, between, dateTime, duration, shortId } from './format.js';
import { workflowStatusChip } from './workflow-status.js';

const PAGE = 50;
const STATUSES = ['running', 'succeeded', 'failed', 'cancelled'];

/** `/workflows?…` with only the parameters that are set (the server refuses unknown ones). */
export function workflowsPath({ status, limit, cursor }) {
  const q = new URLSearchParams();
  if (status) q.set('status', status);
  if (limit) q.set('limit', String(limit));
  if (cursor) q.set('cursor', cursor);
  const s = q.toString();
  return s ? `/workflows?${s}` : '/workflows';
}

/** The words for a refused or failed read: a 403 says the role may not, anything else says why. */
export function readError(what, err) {
  return err instanceof ApiError && err.status === 403 ? `Your role may not view ${what}.` : `The ${what} could not be loaded: ${err.message}`;
}

export class WorkflowList {
  #items = [];
  #nextCursor = null;
  #status = '';
  #loaded = false;
  #error = '';
  #generation = 0;
  #open = false;

  constructor({ root, api }) {
    this.root = root;
    this.api = api;
    root.addEventListener('change', (e) => {
      if (e.target.id !== 'wf-filter-status') return;
      const status = e.target.value;
      history.replaceState(null, '', status ? `#/workflows?status=${status}` : '#/workflows');
      this.#status = status;
      void this.refresh();
    });
    root.addEventListener('click', (e) => {
      if (e.target.closest('#wf-load-more')) void this.#loadMore();
    });
  }

  get isOpen() {
    return this.#open;
  }

  open(params) {
    const status = STATUSES.includes(params.get('status')) ? params.get('status') : '';
    const changed = status !== this.#status || !this.#open;
    this.#open = true;
    this.#status = status;
    document.title = 'Workflows — an-ki';
    this.render();
    if (changed) void this.refresh();
  }

  close() {
    this.#open = false;
  }

  /** Re-reads the first page (or as many rows as are shown, up to 500). */
  async refresh() {
    const generation = ++this.#generation;
    try {
      const r = await this.api.get(workflowsPath({ status: this.#status, limit: Math.min(500, Math.max(PAGE, this.#items.length)) }));
      if (generation !== this.#generation) return;
      this.#items = r.items;
      this.#nextCursor = r.nextCursor;
      this.#error = '';
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#error = readError('workflows', err);
    }
    this.#loaded = true;
    this.render();
  }

  /** Whether a shown workflow still runs (the page re-reads the list while one does). */
  hasRunning() {
    return this.#items.some((w) => w.status === 'running');
  }

  async #loadMore() {
    if (!this.#nextCursor) return;
    try {
      const r = await this.api.get(workflowsPath({ status: this.#status, limit: PAGE, cursor: this.#nextCursor }));
      const seen = new Set(this.#items.map((w) => w.id));
      this.#items.push(...r.items.filter((w) => !seen.has(w.id)));
      this.#nextCursor = r.nextCursor;
    } catch (err) {
      this.#error = readError('workflows', err);
    }
    this.render();
  }

  render() {
    if (!this.#open) return;
    const now = Date.now();
    const n = this.#items.length;
    patchChildren(this.root,
      h('header', { class: 'panel-head' },
        h('h2', { id: 'workflows-title', tabindex: '-1' }, 'Workflows'),
        h('span', { class: 'muted small', 'aria-live': 'polite' }, this.#loaded && !this.#error ? `${n}${this.#nextCursor ? '+' : ''} workflow${n === 1 ? '' : 's'}` : '')),
      h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter workflows' },
        h('div', { class: 'field' },
          h('label', { for: 'wf-filter-status' }, 'Workflow status'),
          h('select', { id: 'wf-filter-status', name: 'status' },
            h('option', { value: '', selected: !this.#status }, 'Any'),
            STATUSES.map((s) => h('option', { value: s, selected: this.#status === s }, s[0].toUpperCase() + s.slice(1)))))),
      this.#error ? h('p', { class: 'form-error', role: 'alert', id: 'workflows-error' }, this.#error) : null,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'tasks', id: 'workflows-table' },
          h('caption', { class: 'visually-hidden' }, 'Workflows, newest first.'),
          h('thead', null, h('tr', null,
            h('th', { scope: 'col' }, 'Workflow'), h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Status'),
            h('th', { scope: 'col' }, 'Owner'), h('th', { scope: 'col' }, 'Created'), h('th', { scope: 'col', class: 'num' }, 'Duration'))),
          h('tbody', { id: 'workflows-body' }, this.#items.map((w) => this.#row(w, now))))),
      this.#loaded && !n && !this.#error ? h('p', { class: 'empty muted' }, 'No workflows match this filter.') : null,
      this.#nextCursor ? h('div', { class: 'more' }, h('button', { type: 'button', class: 'btn', id: 'wf-load-more' }, 'Load more')) : null);
    // patchChildren re-creates a select's options in place; make its value follow the filter.
    const select = this.root.querySelector('#wf-filter-status');
    if (select && select.value !== this.#status) select.value = this.#status;
  }

  #row(w, now) {
    const took = w.finishedAt ? between(w.createdAt, w.finishedAt) : now - Date.parse(w.createdAt);
    return h('tr', { 'data-key': w.id, 'data-id': w.id },
      h('td', { class: 'mono' }, h('a', { href: `#/workflows/${w.id}`, 'aria-label': `Workflow ${w.id}, ${w.status}` }, shortId(w.id))),
      h('td', { class: 'type' }, w.name ?? h('span', { class: 'muted' }, '—')),
      h('td', null, workflowStatusChip(w.status)),
      h('td', { class: 'col-owner' }, w.owner),
      h('td', null, h('time', { datetime: w.createdAt, title: dateTime(w.createdAt) }, ago(w.createdAt, now))),
      h('td', { class: 'num' }, duration(took)));
  }
}
