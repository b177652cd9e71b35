// Dead letters (admin, operator): what failed for good and why, with re-drive and delete.

import { announce, h, patchChildren } from './dom.js';
import { ago, dateTime, shortId } from './format.js';
import { readError } from './workflow-list.js';

const PAGE = 100;

export class DeadLetterList {
  #items = [];
  #loaded = false;
  #error = '';
  #notice = '';
  #open = false;

  constructor({ root, api }) {
    this.root = root;
    this.api = api;
    root.addEventListener('click', (e) => {
      const button = e.target.closest('[data-letter-action]');
      if (button) void this.#act(button.dataset.letterAction, button.dataset.id);
    });
  }

  get isOpen() {
    return this.#open;
  }

  open() {
    this.#open = true;
    document.title = 'Dead letters — an-ki';
    this.render();
    void this.refresh();
  }

  close() {
    this.#open = false;
  }

  async refresh() {
    try {
      this.#items = (await this.api.get(`/dead-letters?limit=${PAGE}`)).items;
      this.#error = '';
    } catch (err) {
      this.#error = readError('dead letters', err);
    }
    this.#loaded = true;
    this.render();
  }

  async #act(action, id) {
    const letter = this.#items.find((l) => l.id === id);
    if (!letter) return;
    const what = letter.taskId ? `task ${shortId(letter.taskId)}` : `letter ${shortId(id)}`;
    const ask = action === 'redrive' ? `Run ${what} again? Its letter goes away.` : `Forget the dead letter of ${what}? The task is left as it is.`;
    if (!window.confirm(ask)) return;
    try {
      if (action === 'redrive') await this.api.post(`/dead-letters/${id}/redrive`);
      else await this.api.delete(`/dead-letters/${id}`);
      this.#notice = action === 'redrive' ? `Re-driven: ${what} runs again.` : `Forgot the letter of ${what}.`;
      announce(this.#notice);
    } catch (err) {
      this.#notice = `That did not work: ${err.message}`;
    }
    await this.refresh();
  }

  render() {
    if (!this.#open) return;
    const now = Date.now();
    patchChildren(this.root,
      h('header', { class: 'panel-head' },
        h('h2', { id: 'dead-letters-title', tabindex: '-1' }, 'Dead letters'),
        h('span', { class: 'muted small', 'aria-live': 'polite' }, this.#loaded && !this.#error ? `${this.#items.length} letter${this.#items.length === 1 ? '' : 's'}` : '')),
      this.#error ? h('p', { class: 'form-error', role: 'alert' }, this.#error) : null,
      this.#notice ? h('p', { class: 'notice', role: 'status' }, this.#notice) : null,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'tasks', id: 'dead-letters-table' },
          h('caption', { class: 'visually-hidden' }, 'Dead letters, newest first.'),
          h('thead', null, h('tr', null, ['Task', 'Reason', 'Error', 'Count', 'Last seen', ''].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', { id: 'dead-letters-body' }, this.#items.map((l) => this.#row(l, now))))),
      this.#loaded && !this.#items.length && !this.#error ? h('p', { class: 'empty muted' }, 'No dead letters.') : null);
  }

  #row(l, now) {
    return h('tr', { 'data-key': l.id, 'data-id': l.id, 'data-task': l.taskId ?? '' },
      h('td', null, l.taskId ? h('a', { href: `#/tasks/${l.taskId}`, class: 'mono' }, shortId(l.taskId)) : h('span', { class: 'muted', title: l.claimedTaskIds.join(', ') }, 'none')),
      h('td', null, l.reason),
      h('td', { class: 'wrap' }, l.error ? [h('span', { class: 'mono' }, l.error.code ?? ''), ' ', l.error.message ?? ''] : '—'),
      h('td', { class: 'num' }, String(l.count)),
      h('td', null, h('time', { datetime: l.lastSeenAt, title: dateTime(l.lastSeenAt) }, ago(l.lastSeenAt, now))),
      h('td', null, h('div', { class: 'row-actions' },
        l.redrivable ? h('button', { type: 'button', class: 'btn btn-small', 'data-letter-action': 'redrive', 'data-id': l.id, 'aria-label': `Re-drive the letter of ${l.taskId ?? l.id}` }, 'Re-drive') : null,
        h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-letter-action': 'delete', 'data-id': l.id, 'aria-label': `Delete the letter of ${l.taskId ?? l.id}` }, 'Delete'))));
  }
}
