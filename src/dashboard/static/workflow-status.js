// Workflow and node states as chips: colour and words, never colour alone.

import { h } from './dom.js';

/** `pending`, `running`, `succeeded`, `failed`, `skipped`, `cancelled` (nodes) and the workflow's own. */
export function workflowStatusChip(status, extra = '') {
  return h('span', { class: `chip task-status ts-${status}` }, status, extra ? h('span', { class: 'chip-extra' }, ` ${extra}`) : null);
}

export const WORKFLOW_ENDED = new Set(['succeeded', 'failed', 'cancelled']);
