// A task's streamed output (GET /tasks/{id}/stream), kept per attempt while its page is open.

import { h } from './dom.js';

/** Characters kept per attempt on the page (the principal keeps at most 1 Mi). */
const MAX_CHARS = 200_000;

export class TaskOutput {
  #id = null;
  #abort = null;
  #byAttempt = new Map();
  #ended = false;

  /** `onChange()` is called when output arrives or the stream ends. */
  constructor(api, onChange) {
    this.api = api;
    this.onChange = onChange;
  }

  /** Follows the output of task `id` (the chunks kept so far come first); a second call for the same id does nothing. */
  follow(id) {
    if (this.#id === id) return;
    this.stop();
    this.#id = id;
    this.#byAttempt = new Map();
    this.#ended = false;
    const abort = new AbortController();
    this.#abort = abort;
    this.api.stream(`/tasks/${id}/stream`, (name, data) => {
      if (this.#id !== id) return;
      if (name === 'chunk' && data && typeof data.text === 'string') this.#add(data.attempt, data.seq, data.text);
      else if (name === 'end') this.#ended = true;
      else return;
      this.onChange();
    }, abort.signal).catch(() => { /* a task without output, or a principal that restarted: nothing to show */ });
  }

  stop() {
    this.#abort?.abort();
    this.#abort = null;
    this.#id = null;
  }

  #add(attempt, seq, text) {
    // A retry starts again at seq 0: its output is a new attempt's, shown apart.
    const a = this.#byAttempt.get(attempt) ?? { text: '', cut: false };
    if (a.text.length < MAX_CHARS) a.text += text.slice(0, MAX_CHARS - a.text.length);
    else a.cut = true;
    this.#byAttempt.set(attempt, a);
  }

  /** The "Output" card, or nothing when the task streamed none. */
  section() {
    if (this.#byAttempt.size === 0) return null;
    const several = this.#byAttempt.size > 1;
    return h('section', { class: 'card', 'aria-labelledby': 'task-output-title' },
      h('h3', { id: 'task-output-title' }, 'Output', this.#ended ? null : h('span', { class: 'muted small live-tag' }, ' · live')),
      [...this.#byAttempt].sort(([a], [b]) => a - b).map(([attempt, a]) => [
        several ? h('p', { class: 'muted small', 'data-key': `h${attempt}` }, `Attempt ${attempt}`) : null,
        h('pre', { class: 'json output', tabindex: '0', 'data-key': `o${attempt}`, 'data-attempt': String(attempt), 'aria-label': `Output of attempt ${attempt}` }, a.text, a.cut ? '\n… (cut here on this page)' : ''),
      ]));
  }
}
