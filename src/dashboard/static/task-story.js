// A task's story from its attempt log: each attempt (An, Ki, GPUs, how long, how it ended) and
// the timeline of every state change from its creation on.

import { h, statusChip, TERMINAL } from './dom.js';
import { dateTime, duration, preciseTime } from './format.js';

/** Statuses that end an attempt without ending the task: it waits, or goes back to the queue. */
const LEAVES_ATTEMPT = new Set(['scheduled', 'queued']);

function time(iso) {
  return iso ? h('time', { datetime: iso, title: dateTime(iso) }, preciseTime(iso)) : null;
}

const gpusText = (gpus) => (gpus ? Object.entries(gpus).map(([ki, list]) => `${ki}: ${list.join(', ')}`).join(' · ') : '');

/**
 * The attempts a log tells of, oldest first: `{ attempt, an, ki, gpus, startedAt, endedAt,
 * outcome, error }`. An attempt ends at the first entry that leaves it (a terminal state, a retry's
 * wait or a requeue); one still running has no end.
 */
export function attemptsOf(log) {
  const byNumber = new Map();
  for (const e of log) {
    if (e.attempt < 1) continue;
    let a = byNumber.get(e.attempt);
    if (!a) {
      // Only a dispatch (or an outcome written with it) starts an attempt; a caller's retry logs
      // `queued` at the attempts the failed run used.
      if (LEAVES_ATTEMPT.has(e.status)) continue;
      a = { attempt: e.attempt, an: null, ki: null, gpus: null, startedAt: e.at, endedAt: null, outcome: null, error: null };
      byNumber.set(e.attempt, a);
    }
    if (a.endedAt) continue;
    a.an = e.an ?? a.an;
    a.ki = e.ki ?? a.ki;
    a.gpus = e.gpus ?? a.gpus;
    if (TERMINAL.has(e.status) || LEAVES_ATTEMPT.has(e.status)) {
      a.endedAt = e.at;
      a.outcome = TERMINAL.has(e.status) ? e.status : e.status === 'scheduled' ? 'retrying' : 'requeued';
      a.error = e.error ?? null;
    }
  }
  return [...byNumber.values()].sort((x, y) => x.attempt - y.attempt);
}

function outcomeCell(a, t) {
  const chip = !a.outcome ? statusChip(t.status)
    : a.outcome === 'retrying' ? statusChip('scheduled', '→ retry')
      : a.outcome === 'requeued' ? statusChip('queued', '→ requeued')
        : statusChip(a.outcome);
  const error = a.error ? h('span', { class: 'attempt-error' }, ' ', h('span', { class: 'mono' }, a.error.code ?? ''), ' ', a.error.message ?? '') : null;
  return h('td', { class: 'attempt-outcome' }, chip, error);
}

function attemptRow(a, t, nodeLink, now) {
  const took = (a.endedAt ? Date.parse(a.endedAt) : now) - Date.parse(a.startedAt);
  return h('tr', { 'data-key': String(a.attempt), 'data-attempt': String(a.attempt) },
    h('td', { class: 'num' }, String(a.attempt)),
    h('td', null, a.an ? nodeLink('an', a.an) : '—'),
    h('td', null, a.ki ? a.ki.split(',').map((k, i) => [i ? ', ' : '', nodeLink('ki', k)]) : '—'),
    h('td', { class: 'mono small' }, gpusText(a.gpus) || '—'),
    h('td', null, time(a.startedAt)),
    h('td', { class: 'num' }, duration(took)),
    outcomeCell(a, t));
}

function attemptsCard(t, attempts, nodeLink, now) {
  const body = attempts.length === 0
    ? h('p', { class: 'muted' }, t.attempts === 0 ? 'Not dispatched yet.' : 'This task was stored before attempts were logged.')
    : h('div', { class: 'table-wrap' },
      h('table', { class: 'tasks attempts', id: 'task-attempts' },
        h('thead', null, h('tr', null, ['#', 'An', 'Ki', 'GPUs', 'Started', 'Took', 'Outcome'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, attempts.map((a) => attemptRow(a, t, nodeLink, now)))));
  return h('section', { class: 'card', 'aria-labelledby': 'task-attempts-title' },
    h('h3', { id: 'task-attempts-title' }, `Attempts (${t.attempts} of ${t.maxAttempts})`), body);
}

function timelineEntry(e, i) {
  return h('li', { 'data-key': `e${i}`, 'data-status': e.status, 'data-attempt': String(e.attempt) },
    h('span', { class: 'tl-time' }, time(e.at)),
    h('span', { class: 'tl-what' }, statusChip(e.status)),
    e.attempt ? h('span', { class: 'muted' }, ` attempt ${e.attempt}`) : null,
    e.ki ? h('span', { class: 'muted' }, ` · ${e.an ? `${e.an} → ` : ''}${e.ki}`) : null,
    e.error ? h('span', { class: 'tl-error' }, ` · ${e.error.code}${e.error.message ? `: ${e.error.message}` : ''}`) : null);
}

function timelineCard(t, log) {
  const created = h('li', { 'data-key': 'created', 'data-status': 'created' },
    h('span', { class: 'tl-time' }, time(t.createdAt)),
    h('span', { class: 'tl-what' }, 'created'),
    t.runAt ? h('span', { class: 'muted' }, ' · due ', time(t.runAt)) : null);
  return h('section', { class: 'card', 'aria-labelledby': 'task-timeline-title' },
    h('h3', { id: 'task-timeline-title' }, 'Timeline'),
    h('ol', { class: 'timeline', id: 'task-timeline' }, created, log.map(timelineEntry)));
}

/** The "Attempts" and "Timeline" cards of a task; `nodeLink(role, id)` renders a node's name. */
export function storySections(t, nodeLink, now = Date.now()) {
  const log = t.attemptLog ?? [];
  return [attemptsCard(t, attemptsOf(log), nodeLink, now), timelineCard(t, log)];
}
