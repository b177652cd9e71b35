// Small DOM helpers: element creation, in-place updates (so focus, scroll and open sections
// survive a refresh), and announcements for screen readers.

/**
 * Creates an element. Attribute values: `true` gives an empty attribute, `false`/`null`/`undefined`
 * leave it out. Children may be nodes, strings, numbers, arrays or nothing.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const keyOf = (node) => (node.nodeType === 1 ? node.getAttribute('data-key') : null);

function sameKind(a, b) {
  if (a.nodeType !== b.nodeType) return false;
  if (a.nodeType !== 1) return true;
  return a.tagName === b.tagName && keyOf(a) === keyOf(b);
}

function syncAttributes(target, source) {
  for (const { name } of [...target.attributes]) if (!source.hasAttribute(name)) target.removeAttribute(name);
  for (const { name, value } of [...source.attributes]) if (target.getAttribute(name) !== value) target.setAttribute(name, value);
  // Properties that stop following their attribute once changed.
  if (target.tagName === 'DETAILS') target.open = source.hasAttribute('open');
  if ((target.tagName === 'PROGRESS' || target.tagName === 'METER') && source.hasAttribute('value')) target.value = Number(source.getAttribute('value'));
}

function morphChildren(parent, source) {
  const keyed = new Map();
  for (const c of parent.childNodes) if (keyOf(c) !== null) keyed.set(`${c.tagName}|${keyOf(c)}`, c);
  let cursor = parent.firstChild;
  for (const wanted of [...source.childNodes]) {
    let match = null;
    if (keyOf(wanted) !== null) match = keyed.get(`${wanted.tagName}|${keyOf(wanted)}`) ?? null;
    else if (cursor && sameKind(cursor, wanted)) match = cursor;
    if (!match) {
      parent.insertBefore(wanted, cursor);
      continue;
    }
    if (match === cursor) cursor = cursor.nextSibling;
    else parent.insertBefore(match, cursor);
    if (match.nodeType === 1) morph(match, wanted);
    else if (match.nodeValue !== wanted.nodeValue) match.nodeValue = wanted.nodeValue;
  }
  while (cursor) {
    const next = cursor.nextSibling;
    parent.removeChild(cursor);
    cursor = next;
  }
}

/**
 * Makes `target` look like `source` while reusing target's nodes: children with the same
 * `data-key` (or, without keys, the same position and tag) are updated in place.
 */
export function morph(target, source) {
  syncAttributes(target, source);
  morphChildren(target, source);
}

/** Replaces the children of `target` with `children`, reusing what it can. */
export function patchChildren(target, ...children) {
  morphChildren(target, h(target.tagName.toLowerCase(), null, ...children));
}

const pending = [];
let announceTimer;

/** Says `text` through the polite live region; messages close together are read as one. */
export function announce(text) {
  pending.push(text);
  if (announceTimer) return;
  announceTimer = setTimeout(() => {
    announceTimer = undefined;
    const region = document.getElementById('announcer');
    const all = pending.splice(0);
    const message = all.length > 4 ? `${all.slice(0, 3).join('. ')}. And ${all.length - 3} more changes` : all.join('. ');
    region.textContent = '';
    // A change the screen reader can notice even when the same words come twice.
    setTimeout(() => { region.textContent = message; }, 50);
  }, 700);
}

/** Briefly marks an element as just changed (the CSS respects reduced motion). */
export function flash(el) {
  if (!el) return;
  el.classList.remove('flash');
  void el.offsetWidth;
  el.classList.add('flash');
  setTimeout(() => el.classList.remove('flash'), 1600);
}

const TASK_STATUS_LABEL = { scheduled: 'scheduled', queued: 'queued', dispatched: 'dispatched', running: 'running', succeeded: 'succeeded', failed: 'failed', cancelled: 'cancelled' };
export const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** A task status as a coloured chip whose text says the status (colour is never the only cue). */
export function statusChip(status, extra = '') {
  return h('span', { class: `chip task-status ts-${status}` }, TASK_STATUS_LABEL[status] ?? status, extra ? h('span', { class: 'chip-extra' }, ` ${extra}`) : null);
}
