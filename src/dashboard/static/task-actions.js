// What a writer may do to a task from its page: cancel, retry, change its priority, delete.
// Each asks for confirmation; the server decides (a 403 or 409 is shown as it comes).

import { h, TERMINAL } from './dom.js';

const REPRIORITIZABLE = new Set(['queued', 'scheduled']);

/** The buttons for task `t`; none for a role that may not change tasks. */
export function taskActionButtons(t, { canWrite, busy }) {
  if (!canWrite) return null;
  const terminal = TERMINAL.has(t.status);
  return h('div', { class: 'task-actions', role: 'group', 'aria-label': 'Task actions' },
    REPRIORITIZABLE.has(t.status) ? h('span', { class: 'priority-edit' },
      h('label', { for: 'task-priority', class: 'small' }, 'Priority'),
      h('input', { type: 'number', id: 'task-priority', min: 0, max: 9, step: 1, value: String(t.priority), inputmode: 'numeric' }),
      h('button', { type: 'button', class: 'btn', 'data-action': 'priority', disabled: busy }, 'Set priority')) : null,
    t.status === 'failed' && !t.workflowId ? h('button', { type: 'button', class: 'btn', 'data-action': 'retry', disabled: busy }, 'Retry task') : null,
    !terminal ? h('button', { type: 'button', class: 'btn btn-danger', id: 'cancel-task', 'data-action': 'cancel', disabled: busy }, busy === 'cancel' ? 'Cancelling…' : 'Cancel task') : null,
    h('button', { type: 'button', class: 'btn btn-danger', 'data-action': 'delete', disabled: busy }, 'Delete task'));
}

/**
 * Runs `action` on task `t` once confirmed. Returns `{ task, notice }` (the task as it now is),
 * `{ deleted: true, notice }`, or null when the person changed their mind.
 */
export async function runTaskAction(api, t, action, root) {
  const short = t.id.slice(0, 8);
  switch (action) {
    case 'cancel':
      if (!window.confirm(`Cancel task ${short}?`)) return null;
      return { task: await api.post(`/tasks/${t.id}/cancel`), notice: 'Cancelled.' };
    case 'retry':
      if (!window.confirm(`Run failed task ${short} again?`)) return null;
      return { task: await api.post(`/tasks/${t.id}/retry`), notice: 'Queued again.' };
    case 'priority': {
      const priority = Number(root.querySelector('#task-priority')?.value);
      if (!Number.isInteger(priority) || priority < 0 || priority > 9) throw new Error('the priority is a whole number from 0 to 9');
      if (!window.confirm(`Change the priority of task ${short} to ${priority}?`)) return null;
      return { task: await api.patch(`/tasks/${t.id}`, { priority }), notice: `Priority set to ${priority}.` };
    }
    case 'delete':
      if (!window.confirm(`Delete task ${short}? It is cancelled if it has not ended, and its record is removed.`)) return null;
      await api.delete(`/tasks/${t.id}`);
      return { deleted: true, notice: `Task ${short} deleted.` };
    default:
      return null;
  }
}
