// One task's story: status, progress, its attempts and timeline, where it ran, output, result
// and error, its trace; live while it runs, with the actions the signed-in role may take.

import { ApiError } from './api.js';
import { announce, h, patchChildren, statusChip, TERMINAL } from './dom.js';
import { between, dateTime, duration, percent, preciseTime, prettyJson } from './format.js';
import { runTaskAction, taskActionButtons } from './task-actions.js';
import { TaskOutput } from './task-output.js';
import { downloadResult, resultSection } from './task-result.js';
import { storySections } from './task-story.js';

/** The tracing UI's link template (DASHBOARD_TRACE_URL), with `{traceId}` in it; empty: no link. */
const TRACE_URL = document.querySelector('meta[name="anki-trace-url"]')?.getAttribute('content') ?? '';

const ACTIVE_POLL_MS = 1000;

function fact(label, value) {
  return [h('dt', null, label), h('dd', null, value === null || value === undefined || value === '' ? h('span', { class: 'muted' }, '—') : value)];
}

function time(iso) {
  return iso ? h('time', { datetime: iso, title: dateTime(iso) }, preciseTime(iso)) : null;
}

export class TaskPage {
  #id = null;
  #task = null;
  #error = '';
  #notice = '';
  #timer = null;
  #busy = null;

  constructor({ root, api, canWrite, onReveal }) {
    this.root = root;
    this.api = api;
    this.canWrite = canWrite;
    this.onReveal = onReveal;
    this.output = new TaskOutput(api, () => this.render());
    root.addEventListener('click', (e) => {
      const reveal = e.target.closest('[data-reveal]');
      if (reveal && this.onReveal) {
        const [role, ...id] = reveal.dataset.reveal.split(':');
        this.onReveal?.(role, id.join(':'));
      }
      const action = e.target.closest('[data-action]')?.dataset.action;
      if (action) void this.#act(action);
      if (e.target.closest('#download-result') && this.#task) downloadResult(this.#task);
    });
  }

  get id() {
    return this.#id;
  }

  async open(id) {
    if (this.#id === id) return;
    this.close();
    this.#id = id;
    this.#task = null;
    this.#error = '';
    this.#notice = '';
    this.render();
    this.root.querySelector('#task-title')?.focus();
    this.output.follow(id);
    await this.load();
  }

  close() {
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#id = null;
    this.output.stop();
  }

  async load() {
    const id = this.#id;
    if (!id) return;
    clearTimeout(this.#timer);
    try {
      const t = await this.api.get(`/tasks/${id}`);
      if (id !== this.#id) return;
      const before = this.#task?.status;
      this.#task = t;
      this.#error = '';
      if (before && before !== t.status) announce(`Task ${id.slice(0, 8)} is now ${t.status}`);
      document.title = `Task ${id.slice(0, 8)} · ${t.status} — an-ki`;
    } catch (err) {
      if (id !== this.#id) return;
      this.#error = err instanceof ApiError && err.status === 404 ? 'There is no such task, or it is not yours to see.' : `The task could not be loaded: ${err.message}`;
    }
    this.render();
    // Only terminal changes are pushed; progress and queued → running are read while it is active.
    if (this.#id === id && (!this.#task || !TERMINAL.has(this.#task.status))) this.#timer = setTimeout(() => void this.load(), ACTIVE_POLL_MS);
  }

  applyEvent(update) {
    if (update.id === this.#id) void this.load();
  }

  async #act(action) {
    const t = this.#task;
    if (!t || this.#busy) return;
    this.#busy = action;
    this.render();
    try {
      const done = await runTaskAction(this.api, t, action, this.root);
      if (done?.deleted) {
        announce(done.notice);
        location.hash = '#/';
        return;
      }
      if (done) {
        this.#task = done.task;
        this.#notice = done.notice;
        announce(`Task ${t.id.slice(0, 8)}: ${done.notice}`);
        void this.load();
      }
    } catch (err) {
      this.#notice = `That did not work: ${err.message}`;
    } finally {
      this.#busy = null;
      this.render();
    }
  }

  render() {
    const id = this.#id;
    if (!id) return;
    const t = this.#task;
    const back = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/', class: 'back' }, h('span', { 'aria-hidden': 'true' }, '← '), 'All tasks'));
    if (!t) {
      patchChildren(this.root, back,
        h('h2', { id: 'task-title', tabindex: '-1', class: 'task-title' }, 'Task ', h('span', { class: 'mono' }, id)),
        this.#error ? h('p', { class: 'form-error', role: 'alert' }, this.#error) : h('p', { class: 'muted' }, 'Loading…'));
      return;
    }
    const waited = between(t.createdAt, t.startedAt);
    const ran = t.finishedAt ? between(t.startedAt, t.finishedAt) : t.startedAt && t.status === 'running' ? Date.now() - Date.parse(t.startedAt) : null;
    const total = between(t.createdAt, t.finishedAt);

    patchChildren(this.root,
      back,
      h('header', { class: 'task-head' },
        h('h2', { id: 'task-title', tabindex: '-1', class: 'task-title' }, 'Task ', h('span', { class: 'mono task-id' }, t.id)),
        h('span', { class: 'task-head-status', 'aria-live': 'polite' }, statusChip(t.status)),
        taskActionButtons(t, { canWrite: this.canWrite, busy: this.#busy })),
      this.#error ? h('p', { class: 'form-error', role: 'alert' }, this.#error) : null,
      this.#notice ? h('p', { class: 'notice', role: 'status' }, this.#notice) : null,
      this.#progress(t),
      h('div', { class: 'task-grid' },
        h('section', { class: 'card', 'aria-labelledby': 'task-details' },
          h('h3', { id: 'task-details' }, 'Details'),
          h('dl', { class: 'facts' },
            fact('Type', h('span', { class: 'mono' }, t.type)),
            fact('Owner', t.owner),
            fact('Priority', String(t.priority)),
            fact('Attempts', `${t.attempts} of ${t.maxAttempts}`),
            fact('Timeout', duration(t.timeoutMs)),
            fact('Needs', requirementsText(t.requirements)),
            t.redundancy ? fact('Redundancy', `${t.redundancy.quorum} of ${t.redundancy.replicas} must agree`) : null,
            t.scheduleId ? fact('Schedule', [h('a', { href: `#/schedules/${t.scheduleId}`, class: 'mono', id: 'task-schedule' }, t.scheduleId), t.scheduleTickAt ? h('span', { class: 'muted' }, ' · tick ', time(t.scheduleTickAt)) : null]) : null,
            t.workflowId ? fact('Workflow', h('a', { href: `#/workflows/${t.workflowId}`, class: 'mono', id: 'task-workflow' }, t.workflowId)) : null,
            t.traceId ? fact('Trace', TRACE_URL
              ? h('a', { href: TRACE_URL.replace('{traceId}', t.traceId), class: 'mono', id: 'task-trace', target: '_blank', rel: 'noopener noreferrer' }, t.traceId)
              : h('span', { class: 'mono', id: 'task-trace' }, t.traceId)) : null)),
        h('section', { class: 'card', 'aria-labelledby': 'task-placement' },
          h('h3', { id: 'task-placement' }, 'Ran on'),
          h('dl', { class: 'facts' },
            fact('An', t.an ? this.#nodeLink('an', t.an) : null),
            fact('Ki', t.ki ? t.ki.split(',').map((k, i) => [i ? ', ' : '', this.#nodeLink('ki', k)]) : null))),
        h('section', { class: 'card', 'aria-labelledby': 'task-timings' },
          h('h3', { id: 'task-timings' }, 'Timings'),
          h('dl', { class: 'facts' },
            fact('Created', time(t.createdAt)),
            t.runAt ? fact('Due at', time(t.runAt)) : null,
            fact('Started', time(t.startedAt)),
            fact('Finished', time(t.finishedAt)),
            fact('Waited', waited === null ? null : duration(waited)),
            fact('Ran', ran === null ? null : duration(ran)),
            fact('Total', total === null ? null : duration(total))))),
      storySections(t, (role, id) => this.#nodeLink(role, id)),
      this.output.section(),
      t.error ? h('section', { class: 'card card-error', 'aria-labelledby': 'task-error' },
        h('h3', { id: 'task-error' }, 'Error'),
        h('p', { class: 'error-line' }, t.error.code ? h('span', { class: 'chip chip-bad mono' }, t.error.code) : null, ' ', t.error.message ?? ''),
        t.error.retryable !== undefined ? h('p', { class: 'muted small' }, t.error.retryable ? 'Retryable' : 'Not retryable') : null) : null,
      resultSection(t),
      h('details', { class: 'card payload' },
        h('summary', null, h('h3', { class: 'inline' }, 'Payload')),
        h('pre', { class: 'json', tabindex: '0', 'aria-label': 'Payload as JSON' }, prettyJson(t.payload))));
  }

  /** A node name; a button that shows it in the tree when the tree is shown. */
  #nodeLink(role, id) {
    if (!this.onReveal) return h('span', { class: 'mono' }, id);
    return h('button', { type: 'button', class: 'link mono', 'data-reveal': `${role}:${id}`, title: 'Show in the cluster tree' }, id);
  }

  #progress(t) {
    let value = null;
    let text;
    if (t.status === 'succeeded') { value = 1; text = 'Done'; }
    else if (t.status === 'scheduled') { value = 0; text = 'Waiting for its start time'; }
    else if (t.status === 'queued' || t.status === 'dispatched') { value = 0; text = t.status === 'queued' ? 'Waiting for a free slot' : 'Sent to a Ki'; }
    else if (t.status === 'running') {
      value = t.progress ? t.progress.fraction : null;
      text = t.progress ? `${percent(t.progress.fraction)}${t.progress.message ? ` — ${t.progress.message}` : ''}` : 'Running';
    } else {
      // Failed or cancelled: a bar only says something when it got somewhere.
      if (!t.progress) return null;
      value = t.progress.fraction;
      text = `${t.status === 'failed' ? 'Failed' : 'Cancelled'}${t.progress ? ` at ${percent(t.progress.fraction)}` : ''}`;
    }
    return h('section', { class: `progress-block ts-progress-${t.status}`, 'aria-labelledby': 'progress-label' },
      h('div', { class: 'progress-top' },
        h('span', { id: 'progress-label', class: 'label' }, 'Progress'),
        h('span', { class: 'progress-text', id: 'progress-text' }, text)),
      h('progress', { max: 1, value: value === null ? null : Math.max(0, Math.min(1, value)), 'aria-labelledby': 'progress-label', 'aria-describedby': 'progress-text' }));
  }
}

function requirementsText(r) {
  if (!r) return null;
  const parts = [];
  if (r.gpus) parts.push(`${r.gpus} GPU${r.gpus === 1 ? '' : 's'}`);
  if (r.gpuMemoryMiB) parts.push(`${r.gpuMemoryMiB} MiB GPU memory`);
  if (r.labels?.length) parts.push(`labels ${r.labels.join(', ')}`);
  return parts.length ? parts.join(' · ') : 'any Ki';
}
