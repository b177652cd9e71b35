// A task's result: pretty-printed, cut past a size with the whole of it offered as a download.

import { h } from './dom.js';

/** Characters of a result shown on the page. */
export const RESULT_SHOWN_CHARS = 20_000;

function pretty(value) {
  try {
    return JSON.stringify(value, null, 2) ?? 'null';
  } catch {
    return String(value);
  }
}

/** The "Result" card, or nothing while there is none. */
export function resultSection(t) {
  if (t.result === null || t.result === undefined) return null;
  const text = pretty(t.result);
  const cut = text.length > RESULT_SHOWN_CHARS;
  return h('section', { class: 'card', 'aria-labelledby': 'task-result' },
    h('h3', { id: 'task-result' }, 'Result'),
    h('pre', { class: 'json', tabindex: '0', 'aria-label': 'Result as JSON' }, cut ? `${text.slice(0, RESULT_SHOWN_CHARS)}\n…` : text),
    cut ? h('p', { class: 'small' },
      h('span', { class: 'muted' }, `Showing ${RESULT_SHOWN_CHARS.toLocaleString()} of ${text.length.toLocaleString()} characters. `),
      h('button', { type: 'button', class: 'link', id: 'download-result', 'data-download': t.id }, 'Download the whole result (JSON)')) : null);
}

/** Saves the result of `t` as a file (made on demand, so no object URL outlives the click). */
export function downloadResult(t) {
  const url = URL.createObjectURL(new Blob([pretty(t.result)], { type: 'application/json' }));
  const a = h('a', { href: url, download: `task-${t.id}-result.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
