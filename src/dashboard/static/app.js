// The dashboard: sign-in, the cluster tree, the task list and task pages, kept live.

import { Api, ApiError, readClaims } from './api.js';
import { ClusterTree, summaryItems } from './cluster-tree.js';
import { announce, h, patchChildren } from './dom.js';
import { LiveUpdates } from './live.js';
import { TaskList } from './task-list.js';
import { TaskPage } from './task-page.js';
import { ScheduleList } from './schedule-list.js';
import { WorkflowList } from './workflow-list.js';
import { WorkflowPage } from './workflow-page.js';
import { parseRoute } from './routes.js';
import { ChartsView } from './charts-view.js';
import { wireNodeActions } from './node-actions.js';
import { DeadLetterList } from './dead-letter-list.js';
import { SubmitForm } from './submit-form.js';

const TOKEN_KEY = 'anki.dashboard.token';
const CLUSTER_REFRESH_MS = 5000;
const LIST_REFRESH_LIVE_MS = 5000;
const MODE_LABEL = { live: 'Live', polling: 'Polling every 2 s', connecting: 'Connecting', offline: 'Offline' };

const $ = (id) => document.getElementById(id);

let session = null;

function showLogin(message = '') {
  $('session').hidden = true;
  $('summary').hidden = true;
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  $('login-error').textContent = message;
  document.title = 'Sign in — an-ki';
  $('token-input').focus();
}

async function signIn(event) {
  event.preventDefault();
  const raw = $('token-input').value.trim().replace(/^Bearer\s+/i, '');
  const error = $('login-error');
  if (!raw) { error.textContent = 'Paste a token first.'; return; }
  if (!readClaims(raw)) { error.textContent = 'That does not look like a JWT (three base64url parts separated by dots).'; return; }
  const submit = $('login-submit');
  submit.disabled = true;
  error.textContent = '';
  try {
    await new Api(raw).get('/tasks?limit=1');
    sessionStorage.setItem(TOKEN_KEY, raw);
    $('token-input').value = '';
    startSession(raw);
  } catch (err) {
    error.textContent = err instanceof ApiError && err.status === 401
      ? `The principal refused this token: ${err.message}`
      : `Sign-in failed: ${err.message}`;
  } finally {
    submit.disabled = false;
  }
}

function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  session?.stop();
  session = null;
  if (location.hash) history.replaceState(null, '', location.pathname);
  showLogin(message);
}

/** Everything that lives while a token is signed in. */
class Session {
  #timers = [];
  #nodes = [];
  #cluster = null;
  #types = new Set();
  #lastFocusId = null;

  constructor(token) {
    this.claims = readClaims(token) ?? { sub: '?', roles: [] };
    const roles = this.claims.roles;
    this.readsAll = roles.includes('admin') || roles.includes('operator');
    this.canWrite = this.readsAll || roles.includes('submitter');
    this.api = new Api(token, (detail) => signOut(`Signed out: the principal refused the token (${detail}).`));
    this.canRelease = roles.includes('admin');
    this.tree = new ClusterTree($('tree'), { operate: this.readsAll, release: this.canRelease });
    this.list = new TaskList({ api: this.api, showOwner: this.readsAll, onTypesSeen: (types) => this.#addTypes(types) });
    this.workflows = new WorkflowList({ root: $('workflows-view'), api: this.api });
    this.workflow = new WorkflowPage({ root: $('workflow-view'), api: this.api });
    this.schedules = new ScheduleList({ root: $('schedules-view'), api: this.api });
    this.charts = new ChartsView({ root: $('charts-view'), api: this.api });
    this.deadLetters = new DeadLetterList({ root: $('dead-letters-view'), api: this.api });
    this.submit = new SubmitForm({ root: $('submit-view'), api: this.api });
    this.page = new TaskPage({ root: $('task-view'), api: this.api, canWrite: this.canWrite, onReveal: this.readsAll ? (role, id) => this.#reveal(role, id) : null });
    this.live = new LiveUpdates({
      api: this.api,
      canReadNodes: () => this.readsAll,
      onNodes: (items, at) => this.#setNodes(items, at),
      onTask: (update) => this.#onTask(update),
      onResync: () => { void this.list.refresh(); void this.page.load(); void this.workflow.load(); void this.#refreshCluster(); },
      onExpired: () => signOut('Your token has expired. Sign in with a new one.'),
      onMode: (mode) => this.#setMode(mode),
      onPoll: () => { if (!this.page.id) this.list.scheduleRefresh(0); },
    });
    this.onHashChange = () => this.route();
  }

  start() {
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    $('session').hidden = false;
    $('who').textContent = `${this.claims.sub} · ${this.claims.roles.join(', ') || 'no role'}`;
    $('app-view').classList.toggle('no-cluster', !this.readsAll);
    $('cluster-panel').hidden = !this.readsAll;
    $('summary').hidden = !this.readsAll;
    $('charts-link').hidden = !this.readsAll;
    $('dead-letters-link').hidden = !this.readsAll;
    $('submit-link').hidden = !this.canWrite;
    window.addEventListener('hashchange', this.onHashChange);
    this.route();
    if (this.readsAll) {
      void this.api.get('/nodes').then((r) => this.#setNodes(r.items, new Date().toISOString())).catch((err) => {
        if (err.status === 403) this.tree.deny('Your role may not view the cluster.');
      });
      void this.#refreshCluster();
      this.#every(CLUSTER_REFRESH_MS, () => this.#refreshCluster());
      this.unwireNodeActions = wireNodeActions($('tree'), this.api, {
        onDone: () => this.api.get('/nodes').then((r) => this.#setNodes(r.items, new Date().toISOString())),
        onError: (message) => { $('cluster-error').textContent = message; },
      });
    }
    // Queued → running is not pushed, only terminal changes are: re-read the visible page now and then.
    this.#every(1000, () => this.#tick());
    this.live.start();
  }

  stop() {
    this.live.stop();
    this.page.close();
    this.workflow.close();
    this.charts.close();
    this.unwireNodeActions?.();
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#clusterSoon);
    window.removeEventListener('hashchange', this.onHashChange);
  }

  route() {
    const route = parseRoute(location.hash);
    for (const [id, view] of [['list-view', 'tasks'], ['task-view', 'task'], ['workflows-view', 'workflows'], ['workflow-view', 'workflow'], ['schedules-view', 'schedules'], ['charts-view', 'charts'], ['dead-letters-view', 'dead-letters'], ['submit-view', 'submit']]) $(id).hidden = route.view !== view;
    for (const a of document.querySelectorAll('#views-nav a')) {
      if (a.dataset.view === route.section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const wasOnTask = this.page.id !== null;
    if (route.view !== 'task') this.page.close();
    if (route.view !== 'workflow') this.workflow.close();
    if (route.view !== 'workflows') this.workflows.close();
    if (route.view !== 'schedules') this.schedules.close();
    if (route.view !== 'charts') this.charts.close();
    if (route.view !== 'dead-letters') this.deadLetters.close();
    if (route.view !== 'submit') this.submit.close();
    if (route.view === 'task') {
      this.#lastFocusId = route.id;
      void this.page.open(route.id);
      return;
    }
    if (route.view === 'workflow') { void this.workflow.open(route.id); return; }
    if (route.view === 'workflows') { this.workflows.open(route.params); return; }
    if (route.view === 'schedules') { this.schedules.open(route.id); return; }
    if (route.view === 'charts') { this.charts.open(); return; }
    if (route.view === 'dead-letters') { this.deadLetters.open(); return; }
    if (route.view === 'submit') { this.submit.open(); return; }
    document.title = 'Dashboard — an-ki';
    this.list.setFilters(route.params);
    if (wasOnTask) {
      // Back on the list: put the keyboard where it was.
      const link = this.#lastFocusId && document.querySelector(`#tasks-body tr[data-id="${this.#lastFocusId}"] a`);
      (link || $('tasks-title')).focus();
    }
  }

  #every(ms, fn) {
    this.#timers.push(setInterval(() => { if (!document.hidden) void fn(); }, ms));
  }

  #listTicks = 0;
  /** Once a second: relative times move, and every few seconds the list is read again. */
  #tick() {
    if (this.page.id) { this.page.render(); return; }
    if (this.workflow.id || this.charts.isOpen) return; // they read themselves
    if (this.workflows.isOpen || this.schedules.isOpen) { this.#tickOther(); return; }
    if (this.deadLetters.isOpen || this.submit.isOpen) return;
    this.list.render();
    if (this.live.mode !== 'polling' && ++this.#listTicks * 1000 >= LIST_REFRESH_LIVE_MS) {
      this.#listTicks = 0;
      this.list.scheduleRefresh(0);
    }
  }

  /** Workflows and schedules: times move every second; the list is read again every few seconds. */
  #tickOther() {
    const list = this.workflows.isOpen ? this.workflows : this.schedules;
    list.render();
    if (++this.#listTicks * 1000 < LIST_REFRESH_LIVE_MS) return;
    this.#listTicks = 0;
    if (list === this.schedules || this.workflows.hasRunning()) void list.refresh();
  }

  #setNodes(items, at) {
    this.#nodes = items;
    this.tree.setNodes(items);
    for (const n of items) for (const t of n.types ?? []) this.#types.add(t);
    this.#renderTypes();
    const time = at ? new Date(at) : new Date();
    $('cluster-updated').textContent = `updated ${time.toLocaleTimeString()}`;
    this.#renderSummary();
  }

  async #refreshCluster() {
    if (!this.readsAll) return;
    try {
      const before = this.#cluster?.leader;
      this.#cluster = await this.api.get('/cluster');
      const leader = this.#cluster.leader;
      if (before && leader && (before.id !== leader.id || before.term !== leader.term)) announce(`New leader: ${leader.id}, term ${leader.term}`);
      this.tree.setLeader(leader);
      this.#renderSummary();
    } catch { /* the tree and the list say enough; the next refresh retries */ }
  }

  #renderSummary() {
    patchChildren($('summary'), summaryItems(this.#nodes, this.#cluster).map(([k, v]) => h('div', { class: 'sum-item', 'data-key': k }, h('dt', null, k), h('dd', null, v))));
  }

  #clusterSoon = null;
  #onTask(update) {
    // The header's task counts come from /cluster: re-read it once a burst of events settles.
    if (this.readsAll && !this.#clusterSoon) this.#clusterSoon = setTimeout(() => { this.#clusterSoon = null; void this.#refreshCluster(); }, 1000);
    this.list.applyEvent(update);
    this.page.applyEvent(update);
    if (update.status === 'failed' && !this.page.id) announce(`Task ${update.id.slice(0, 8)} failed`);
  }

  #addTypes(types) {
    const before = this.#types.size;
    for (const t of types) this.#types.add(t);
    if (this.#types.size !== before) this.#renderTypes();
  }

  #renderTypes() {
    patchChildren($('known-types'), [...this.#types].sort().map((t) => h('option', { value: t, 'data-key': t })));
  }

  #setMode(mode) {
    const conn = $('conn');
    conn.dataset.mode = mode;
    $('conn-label').textContent = MODE_LABEL[mode] ?? mode;
    conn.title = mode === 'live' ? 'Updates are pushed by the principal' : mode === 'polling' ? 'The live stream is unavailable; reading the API every 2 s' : '';
  }

  #reveal(role, id) {
    if (!this.readsAll) return;
    if (!this.tree.reveal(role, id)) announce(`${id} is not in the cluster tree any more`);
  }
}

function startSession(token) {
  session?.stop();
  session = new Session(token);
  session.start();
}

$('login-form').addEventListener('submit', (e) => void signIn(e));
$('sign-out').addEventListener('click', () => signOut('Signed out.'));

const saved = sessionStorage.getItem(TOKEN_KEY);
const claims = saved ? readClaims(saved) : null;
if (saved && claims && (claims.exp === null || claims.exp > Date.now())) startSession(saved);
else {
  if (saved) sessionStorage.removeItem(TOKEN_KEY);
  showLogin(saved ? 'Your token has expired. Sign in with a new one.' : '');
}
