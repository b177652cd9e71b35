// What an operator may do to a Ki or an An from the cluster tree: cordon, drain, uncordon, and (an
// admin) release a Ki from quarantine. Each asks for confirmation; the server decides.

import { announce, h } from './dom.js';

const CONFIRM = {
  cordon: (id) => `Cordon ${id}? No new task is placed on it; what runs there finishes.`,
  drain: (id) => `Drain ${id}? No new task is placed on it, and it is reported drained once nothing runs there.`,
  uncordon: (id) => `Let ${id} take work again?`,
  release: (id) => `Release ${id} from quarantine? Its answers were out-voted by its peers.`,
};
const LABEL = { cordon: 'Cordon', drain: 'Drain', uncordon: 'Uncordon', release: 'Release' };

/** The buttons for Ki or An `n` that `rights` allow (`{ operate, release }`), or nothing. */
export function nodeActionButtons(n, rights) {
  if (n.status === 'left' || (n.role !== 'ki' && n.role !== 'an')) return null;
  const actions = [];
  if (rights.operate) {
    const held = (n.state && n.state !== 'active') || n.benched;
    if (n.state !== 'cordoned' && n.state !== 'draining') actions.push('cordon', 'drain');
    if (held) actions.push('uncordon');
  }
  if (rights.release && n.quarantined) actions.push('release');
  if (actions.length === 0) return null;
  return h('div', { class: `node-actions node-actions-${n.role}`, role: 'group', 'aria-label': `Actions for ${n.id}` },
    actions.map((a) => h('button', { type: 'button', class: 'btn btn-small', 'data-key': a, 'data-node-action': a, 'data-node': n.id, 'aria-label': `${LABEL[a]} ${n.id}` }, LABEL[a])));
}

/**
 * Handles the tree's action buttons; `onDone()` re-reads the nodes, `onError(message)` shows a
 * refusal. Returns the function that stops it (a later session wires its own).
 */
export function wireNodeActions(container, api, { onDone, onError }) {
  const onClick = async (e) => {
    const button = e.target.closest('[data-node-action]');
    if (!button) return;
    e.preventDefault();
    const { nodeAction: action, node: id } = button.dataset;
    if (!CONFIRM[action] || !window.confirm(CONFIRM[action](id))) return;
    button.disabled = true;
    try {
      await api.post(`/nodes/${encodeURIComponent(id)}/${action}`, action === 'release' ? undefined : { reason: 'from the dashboard' });
      announce(`${LABEL[action]}: ${id}`);
      await onDone();
    } catch (err) {
      onError(`${LABEL[action]} ${id} did not work: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  };
  container.addEventListener('click', onClick);
  return () => container.removeEventListener('click', onClick);
}
