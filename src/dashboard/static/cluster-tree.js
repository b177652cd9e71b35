// The hierarchy: principals (leader marked), An groups, and each group's Kis with slots and GPUs.

import { announce, flash, h, patchChildren } from './dom.js';
import { ago, byId, mib } from './format.js';
import { nodeActionButtons } from './node-actions.js';

const STATUS_LABEL = { alive: 'alive', suspect: 'suspect', dead: 'dead', left: 'left' };
const nodeKey = (n) => `${n.role}:${n.id}`;
export const nodeElementId = (role, id) => `node-${role}-${String(id).replace(/[^A-Za-z0-9_-]/g, '_')}`;

function statusBadge(n, now) {
  const label = STATUS_LABEL[n.status] ?? n.status;
  const seen = n.status === 'alive' ? '' : ` · seen ${ago(n.lastSeen, now)}`;
  return h('span', { class: `status-text status-${n.status}` }, label, seen);
}

function slotsMeter(busy, total, label) {
  if (!total) return null;
  return h('span', { class: 'slots' },
    h('meter', { class: 'meter-slots', min: 0, max: total, value: busy, 'aria-label': label }),
    h('span', { class: 'slots-text' }, `${busy}/${total} slots`));
}

function gpuList(n) {
  if (!n.gpus?.length) return null;
  return h('ul', { class: 'gpus', 'aria-label': `GPUs of ${n.id}` },
    n.gpus.map((g) => h('li', { class: `gpu${g.health === 'failed' ? ' is-failed' : ''}`, 'data-key': `gpu:${g.index}:${g.uuid}` },
      h('span', { class: 'gpu-name' }, h('span', { class: 'gpu-index' }, `GPU ${g.index}`), ' ', g.name),
      g.health === 'failed' ? h('span', { class: 'chip chip-warn', title: `${g.healthReason ?? 'failed'}: it takes no new work` }, 'failed') : null,
      h('span', { class: 'gpu-mem' },
        h('meter', { min: 0, max: g.memoryMiB, value: Math.min(g.memoryUsedMiB, g.memoryMiB), low: Math.round(g.memoryMiB * 0.6), high: Math.round(g.memoryMiB * 0.9), optimum: 0, 'aria-label': `Memory used on GPU ${g.index} of ${n.id}` }),
        h('span', { class: 'gpu-mem-text' }, `${mib(g.memoryUsedMiB)} / ${mib(g.memoryMiB)}`)))));
}

/** A node an operator cordoned or drained (or a Ki stopping): it takes no new work. */
function operationChip(n) {
  if (!n.state || n.state === 'active') return null;
  const why = [n.stateReason, n.stateChangedBy ? `by ${n.stateChangedBy}` : ''].filter(Boolean).join(' ');
  const label = n.state === 'draining' && n.drained ? 'drained' : n.state;
  return h('span', { class: 'chip chip-warn', title: `No new work${why ? `: ${why}` : ''}` }, label);
}

function nodeRow(n, now, extra = [], roleTag = '') {
  return h('span', { class: 'node-row' },
    h('span', { class: `dot status-${n.status}`, 'aria-hidden': 'true' }),
    roleTag ? h('span', { class: 'role-tag' }, roleTag) : null,
    h('span', { class: 'node-name' }, n.id),
    extra,
    statusBadge(n, now),
    n.quarantined ? h('span', { class: 'chip chip-warn', title: 'Gave answers its peers disagreed with; it takes no work until an admin releases it' }, 'quarantined') : null,
    operationChip(n),
    n.benched ? h('span', { class: 'chip chip-warn', title: `${n.benchReason ?? 'Repeated timeouts or crashes'}: no new work until ${n.benchedUntil ?? 'the bench ends'}` }, 'benched') : null,
    h('span', { class: 'row-end' }, slotsMeter(n.slots?.busy ?? 0, n.slots?.total ?? 0, `Slots in use on ${n.id}`)));
}

/** Renders GET /nodes items (and the leader's term from GET /cluster) into `container`. */
export class ClusterTree {
  #nodes = [];
  #leader = null;
  #collapsed = new Set();
  #statuses = new Map();
  #loaded = false;
  #denied = '';

  /** `rights`: `{ operate, release }`, which node actions to offer (none by default). */
  constructor(container, rights = { operate: false, release: false }) {
    this.container = container;
    this.rights = rights;
    container.addEventListener('toggle', (e) => {
      const group = e.target.getAttribute?.('data-group');
      if (group === null || group === undefined) return;
      if (e.target.open) this.#collapsed.delete(group);
      else this.#collapsed.add(group);
    }, true);
  }

  get nodes() {
    return this.#nodes;
  }

  setNodes(items) {
    const first = !this.#loaded;
    this.#loaded = true;
    this.#denied = '';
    const next = new Map(items.map((n) => [nodeKey(n), n.status]));
    if (!first) {
      for (const n of items) {
        const before = this.#statuses.get(nodeKey(n));
        if (before === undefined) announce(`${n.role} ${n.id} joined`);
        else if (before !== n.status) announce(`${n.role === 'ki' ? 'Ki' : n.role === 'an' ? 'An' : n.role} ${n.id} is now ${n.status}`);
      }
      for (const [key] of this.#statuses) if (!next.has(key)) announce(`${key.replace(':', ' ')} left the cluster`);
    }
    const changed = items.filter((n) => !first && this.#statuses.get(nodeKey(n)) !== n.status);
    this.#statuses = next;
    this.#nodes = items;
    this.render();
    for (const n of changed) flash(document.getElementById(nodeElementId(n.role, n.id))?.querySelector('.node-row'));
  }

  setLeader(leader) {
    this.#leader = leader ?? null;
    this.render();
  }

  /** Shown instead of the tree when the role may not read nodes. */
  deny(message) {
    this.#denied = message;
    this.#loaded = true;
    this.render();
  }

  /** Scrolls to a node and marks it, e.g. from a task page's "ran on". */
  reveal(role, id) {
    const el = document.getElementById(nodeElementId(role, id));
    if (!el) return false;
    const details = el.closest('details');
    if (details && !details.open) details.open = true;
    el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    flash(el.querySelector('.node-row'));
    return true;
  }

  render() {
    this.container.setAttribute('aria-busy', this.#loaded ? 'false' : 'true');
    if (this.#denied) { patchChildren(this.container, h('p', { class: 'muted' }, this.#denied)); return; }
    if (!this.#loaded) return;
    const now = Date.now();
    const nodes = [...this.#nodes].sort(byId);
    const principals = nodes.filter((n) => n.role === 'principal' || n.role === 'standalone');
    principals.sort((a, b) => Number(b.leader) - Number(a.leader));
    const ans = nodes.filter((n) => n.role === 'an' || n.role === 'standalone');
    const kis = nodes.filter((n) => n.role === 'ki');
    const groups = [...new Set(ans.map((a) => a.group || a.id))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const unassigned = kis.filter((k) => !k.group || !groups.includes(k.group));

    patchChildren(this.container,
      h('section', { class: 'tree-section', 'data-key': 'principals', 'aria-labelledby': 'tree-principals' },
        h('h3', { class: 'tree-heading', id: 'tree-principals' }, 'Principals', h('span', { class: 'count' }, String(principals.length))),
        principals.length
          ? h('ul', { class: 'node-list' }, principals.map((p) => {
            const term = p.leader && this.#leader?.id === p.id ? ` · term ${this.#leader.term}` : '';
            return h('li', { class: `node node-principal status-${p.status}`, 'data-key': nodeKey(p), id: nodeElementId(p.role, p.id) },
              nodeRow(p, now, [
                p.leader ? h('span', { class: 'chip chip-leader' }, h('span', { 'aria-hidden': 'true' }, '★'), `leader${term}`) : null,
                h('span', { class: 'meta' }, p.version ? `v${p.version}` : ''),
              ]));
          }))
          : h('p', { class: 'muted small' }, 'No principal heartbeats yet.')),
      h('section', { class: 'tree-section', 'data-key': 'groups', 'aria-labelledby': 'tree-groups' },
        h('h3', { class: 'tree-heading', id: 'tree-groups' }, 'An groups', h('span', { class: 'count' }, String(groups.length))),
        groups.length
          ? h('ul', { class: 'groups' }, groups.map((g) => this.#group(g, ans.filter((a) => (a.group || a.id) === g), kis.filter((k) => k.group === g), now)))
          : h('p', { class: 'muted small' }, 'No An is running.')),
      unassigned.length
        ? h('section', { class: 'tree-section', 'data-key': 'unassigned', 'aria-labelledby': 'tree-unassigned' },
          h('h3', { class: 'tree-heading', id: 'tree-unassigned' }, 'Kis without a group', h('span', { class: 'count' }, String(unassigned.length))),
          h('ul', { class: 'node-list kis' }, unassigned.map((k) => this.#ki(k, now))))
        : null);
  }

  #group(group, ans, kis, now) {
    const live = kis.filter((k) => k.status === 'alive');
    const busy = live.reduce((s, k) => s + (k.slots?.busy ?? 0), 0);
    const total = live.reduce((s, k) => s + (k.slots?.total ?? 0), 0);
    const [head, ...moreAns] = ans;
    const headStatus = head?.status ?? 'dead';
    return h('li', { class: 'group', 'data-key': `group:${group}` },
      h('details', { 'data-group': group, open: !this.#collapsed.has(group) },
        h('summary', { class: `node node-an status-${headStatus}`, id: head ? nodeElementId(head.role, head.id) : null },
          h('span', { class: 'node-row' },
            h('span', { class: `dot status-${headStatus}`, 'aria-hidden': 'true' }),
            h('span', { class: 'role-tag' }, 'An'),
            h('span', { class: 'node-name' }, head?.id ?? group),
            head ? statusBadge(head, now) : null,
            head ? operationChip(head) : null,
            h('span', { class: 'meta' }, `${kis.length} Ki${kis.length === 1 ? '' : 's'}`),
            h('span', { class: 'row-end' }, slotsMeter(busy, total, `Slots in use in group ${group}`))),
          head ? nodeActionButtons(head, this.rights) : null),
        moreAns.length ? h('ul', { class: 'node-list' }, moreAns.map((a) => h('li', { class: `node node-an status-${a.status}`, 'data-key': nodeKey(a), id: nodeElementId(a.role, a.id) }, nodeRow(a, now, [], 'An')))) : null,
        kis.length
          ? h('ul', { class: 'node-list kis' }, kis.map((k) => this.#ki(k, now)))
          : h('p', { class: 'muted small indent' }, 'No Ki in this group yet.')));
  }

  #ki(k, now) {
    return h('li', { class: `node node-ki status-${k.status}${k.quarantined ? ' is-quarantined' : ''}`, 'data-key': nodeKey(k), id: nodeElementId(k.role, k.id) },
      nodeRow(k, now, [], 'Ki'),
      gpuList(k),
      nodeActionButtons(k, this.rights));
  }
}

/** Header figures from the nodes and GET /cluster. */
export function summaryItems(nodes, cluster) {
  const alive = nodes.filter((n) => n.status === 'alive');
  const kis = alive.filter((n) => n.role === 'ki');
  const busy = kis.reduce((s, k) => s + (k.slots?.busy ?? 0), 0);
  const total = kis.reduce((s, k) => s + (k.slots?.total ?? 0), 0);
  const down = nodes.filter((n) => n.status === 'dead' || n.status === 'suspect').length;
  const items = [];
  if (cluster?.leader) items.push(['Leader', `${cluster.leader.id} · term ${cluster.leader.term}`]);
  else if (cluster) items.push(['Leader', 'none']);
  items.push(['Nodes', `${alive.length} alive${down ? ` · ${down} down` : ''}`]);
  items.push(['Slots', `${busy}/${total} busy`]);
  if (cluster?.queues) items.push(['Queued', String(cluster.queues.pending ?? 0)]);
  if (cluster?.tasks) items.push(['Running', String(cluster.tasks.running ?? 0)]);
  return items;
}
