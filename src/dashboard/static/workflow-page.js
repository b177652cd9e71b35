// One workflow: its DAG drawn live (re-read every second while it runs), and a table of its nodes
// with their reasons and task links, which is also what a screen reader reads.

import { ApiError } from './api.js';
import { drawDag, elementCounts } from './dag-view.js';
import { announce, h, patchChildren } from './dom.js';
import { between, dateTime, duration, preciseTime, shortId } from './format.js';
import { WORKFLOW_ENDED, workflowStatusChip } from './workflow-status.js';
import { readError } from './workflow-list.js';

const RUNNING_POLL_MS = 1000;
const TASK_LINKS_SHOWN = 12;

/** What changes the drawing: keys, states, reasons, element counts and task ids. */
function drawingSignature(nodes) {
  return JSON.stringify(nodes.map((n) => [n.key, n.status, n.reason, n.taskIds, elementCounts(n)]));
}

function time(iso) {
  return iso ? h('time', { datetime: iso, title: dateTime(iso) }, preciseTime(iso)) : h('span', { class: 'muted' }, '—');
}

export class WorkflowPage {
  #id = null;
  #workflow = null;
  #error = '';
  #timer = null;
  #drawn = '';

  constructor({ root, api }) {
    this.root = root;
    this.api = api;
    // Three parts patched apart, so a refresh never empties the drawing's scroll box.
    this.head = h('div');
    this.dagBox = h('div', { class: 'dag-scroll', id: 'dag-scroll', tabindex: '0', role: 'group', 'aria-label': 'Workflow graph (scrolls)', hidden: true });
    this.nodes = h('div');
    root.replaceChildren(this.head, this.dagBox, this.nodes);
  }

  get id() {
    return this.#id;
  }

  async open(id) {
    if (this.#id === id) return;
    this.close();
    this.#id = id;
    this.#workflow = null;
    this.#error = '';
    this.#drawn = '';
    this.render();
    this.head.querySelector('#workflow-title')?.focus();
    await this.load();
  }

  close() {
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#id = null;
  }

  /** Reads the workflow; while it runs, reads it again a second later. Stops once it ended. */
  async load() {
    const id = this.#id;
    if (!id) return;
    clearTimeout(this.#timer);
    try {
      const w = await this.api.get(`/workflows/${id}`);
      if (id !== this.#id) return;
      const before = this.#workflow?.status;
      this.#workflow = w;
      this.#error = '';
      if (before && before !== w.status) announce(`Workflow ${shortId(id)} ${w.status}`);
      document.title = `Workflow ${w.name ?? shortId(id)} · ${w.status} — an-ki`;
    } catch (err) {
      if (id !== this.#id) return;
      this.#error = err instanceof ApiError && err.status === 404 ? 'There is no such workflow, or it is not yours to see.' : readError('workflow', err);
    }
    this.render();
    if (this.#id === id && (!this.#workflow || !WORKFLOW_ENDED.has(this.#workflow.status))) this.#timer = setTimeout(() => void this.load(), RUNNING_POLL_MS);
  }

  render() {
    const id = this.#id;
    if (!id) return;
    const w = this.#workflow;
    const back = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/workflows', class: 'back' }, h('span', { 'aria-hidden': 'true' }, '← '), 'All workflows'));
    const title = h('h2', { id: 'workflow-title', tabindex: '-1', class: 'task-title' }, 'Workflow ', w?.name ? `${w.name} ` : '', h('span', { class: 'mono task-id' }, id));
    if (!w) {
      patchChildren(this.head, back, title, this.#error ? h('p', { class: 'form-error', role: 'alert' }, this.#error) : h('p', { class: 'muted' }, 'Loading…'));
      this.dagBox.hidden = true;
      this.dagBox.replaceChildren();
      patchChildren(this.nodes);
      return;
    }
    const total = w.finishedAt ? between(w.createdAt, w.finishedAt) : null;
    patchChildren(this.head,
      back,
      h('header', { class: 'task-head' }, title, h('span', { class: 'task-head-status', 'aria-live': 'polite', id: 'workflow-status' }, workflowStatusChip(w.status))),
      this.#error ? h('p', { class: 'form-error', role: 'alert' }, this.#error) : null,
      w.reason ? h('p', { class: 'muted', id: 'workflow-reason' }, w.reason) : null,
      h('dl', { class: 'facts wf-facts' },
        h('dt', null, 'Owner'), h('dd', null, w.owner),
        h('dt', null, 'Created'), h('dd', null, time(w.createdAt)),
        h('dt', null, 'Finished'), h('dd', null, time(w.finishedAt)),
        total !== null ? [h('dt', null, 'Took'), h('dd', null, duration(total))] : null));
    patchChildren(this.nodes,
      h('section', { class: 'card', 'aria-labelledby': 'wf-nodes-title', 'data-key': 'nodes' },
        h('h3', { id: 'wf-nodes-title' }, 'Nodes'),
        h('div', { class: 'table-wrap' },
          h('table', { class: 'tasks wf-nodes' },
            h('thead', null, h('tr', null, ['Node', 'Status', 'Elements', 'Tries', 'Reason', 'Tasks'].map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', { id: 'wf-nodes-body' }, w.nodes.map((n) => this.#nodeRow(n)))))));
    this.#draw(w.nodes);
  }

  /** Replaces the drawing only when it changed, so the scroll box keeps its position otherwise. */
  #draw(nodes) {
    this.dagBox.hidden = false;
    const signature = drawingSignature(nodes);
    if (this.dagBox.firstChild && signature === this.#drawn) return;
    this.#drawn = signature;
    this.dagBox.replaceChildren(drawDag(nodes));
  }

  #nodeRow(n) {
    const tasks = n.tasks ?? [];
    const links = tasks.slice(0, TASK_LINKS_SHOWN).map((t, i) => [i ? ' ' : '', h('a', { href: `#/tasks/${t.id}`, class: 'mono', title: `${n.map ? `element ${t.index}, ` : ''}${t.status}` }, shortId(t.id))]);
    return h('tr', { 'data-key': n.key, 'data-node': n.key },
      h('td', { class: 'mono' }, n.key, n.dependsOn.length ? h('span', { class: 'muted small' }, ` ← ${n.dependsOn.join(', ')}`) : null),
      h('td', null, workflowStatusChip(n.status)),
      h('td', null, elementCounts(n) ?? (n.map ? `map over ${n.map.over}` : h('span', { class: 'muted' }, '—'))),
      h('td', { class: 'num' }, String(n.attempts)),
      h('td', { class: 'wf-reason' }, n.reason ?? h('span', { class: 'muted' }, '—')),
      h('td', { class: 'wf-tasks' }, links.length ? links : h('span', { class: 'muted' }, '—'), tasks.length > TASK_LINKS_SHOWN ? h('span', { class: 'muted' }, ` and ${tasks.length - TASK_LINKS_SHOWN} more`) : null));
  }
}
