import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';
import { CHROMIUM, CHROMIUM_ARGS, type DashboardSession as Session, signInWithToken } from '../helpers/dashboard-browser';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
// Failure detection a little slower than the other e2e tests: a loaded CI box must not make a live Ki look suspect.
const FAST = { KI_SLOTS: '4', HEARTBEAT_MS: '300', SUSPECT_AFTER_MS: '1500', DEAD_AFTER_MS: '3000', TASK_LEASE_MS: '4000', SWEEP_INTERVAL_MS: '500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000' };
const FAKE_GPUS = JSON.stringify([
  { index: 0, name: 'NVIDIA A100-SXM4-80GB', memoryMiB: 81920, memoryUsedMiB: 20480 },
  { index: 1, name: 'NVIDIA A100-SXM4-80GB', memoryMiB: 81920, memoryUsedMiB: 61440 },
]);

describe('dashboard in headless Chromium (real processes)', function () {
  this.timeout(240_000);
  let iso: Isolation | undefined;
  let cluster: TestCluster | undefined;
  let browser: Browser | undefined;
  let kis: NodeProcess[] = [];
  const sessions: Session[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) this.skip();
    mkdirSync(ARTIFACTS, { recursive: true });
    iso = await createIsolation('dashboard');
    cluster = new TestCluster(iso, FAST);
    await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1' });
    kis = [
      await cluster.start('ki', { id: 'ki1', env: { KI_GPUS: FAKE_GPUS } }),
      await cluster.start('ki', { id: 'ki2', env: { KI_GPUS: 'none', KI_SLOTS: '2' } }),
    ];
    const ops = new Api(cluster.url(), cluster.token('ops', 'operator'));
    await waitFor(() => ops.get('/nodes'), (r) => r.body.items.filter((n: any) => n.role === 'ki' && n.status === 'alive' && n.group === 'an1').length === 2, { timeoutMs: 30_000, what: 'both Kis in an1' });
    const root = await fetch(`${cluster.url()}/`);
    assert.equal(root.status, 200, 'the principal serves the dashboard at / (see the wiring in principal-node.ts)');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterEach(async function () {
    // Whatever a failing test left on screen is the most useful artifact.
    if (this.currentTest?.state === 'failed') {
      for (const [i, s] of sessions.entries()) await s.page.screenshot({ path: join(ARTIFACTS, `dashboard-failure-${i}.png`) }).catch(() => undefined);
    }
  });

  after(async () => {
    for (const s of sessions) await s.context.close().catch(() => undefined);
    await browser?.close();
    await cluster?.stopAll();
    await iso?.destroy();
  });

  const api = (sub: string, role: 'operator' | 'submitter') => new Api(cluster!.url(), cluster!.token(sub, role));

  /** A fresh browser profile signed in with a token pasted into the form, as a person would. */
  async function signIn(sub: string, role: 'operator' | 'submitter', setup?: (context: BrowserContext) => Promise<void>): Promise<Session> {
    const s = await signInWithToken(browser!, cluster!.url(), cluster!.token(sub, role), setup ? { setup } : {});
    sessions.push(s);
    return s;
  }

  let operator: Session;

  it('shows the hierarchy live: the leader with its term, the An group, its Kis with slots and GPUs', async () => {
    operator = await signIn('ops', 'operator');
    const { page } = operator;
    await page.locator('#node-principal-p1 .chip-leader', { hasText: /leader · term \d+/ }).waitFor();
    await page.locator('#node-an-an1').waitFor();
    for (const id of ['ki1', 'ki2']) {
      const ki = page.locator(`details[data-group="an1"] #node-ki-${id}`);
      await ki.waitFor();
      assert.match(await ki.getAttribute('class') ?? '', /status-alive/);
    }
    assert.equal(await page.locator('#node-ki-ki1 .gpu').count(), 2);
    assert.match(await page.locator('#node-ki-ki1 .gpu').first().innerText(), /GPU 0\s+NVIDIA A100-SXM4-80GB[\s\S]*20 GiB \/ 80 GiB/);
    assert.equal(await page.locator('meter[aria-label="Slots in use on ki1"]').getAttribute('max'), '4');
    assert.equal(await page.locator('meter[aria-label="Slots in use on ki2"]').getAttribute('max'), '2');
    await page.locator('#conn[data-mode="live"]').waitFor();
    await page.locator('#summary .sum-item', { hasText: 'Leader' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-tree.png') });
    assert.deepEqual(operator.errors, []);
  });

  it('lists a submitted task and shows it succeed without a reload, then opens its page', async () => {
    const { page } = operator;
    await page.evaluate(() => { (globalThis as unknown as { sameDocument: boolean }).sameDocument = true; });
    const submitted = await api('alice', 'submitter').post('/tasks', { type: 'sleep', payload: { ms: 1500 } });
    assert.equal(submitted.status, 201);
    const id: string = submitted.body.id;
    const row = page.locator(`#tasks-body tr[data-id="${id}"]`);
    await row.waitFor({ timeout: 20_000 });
    await row.locator('.task-status', { hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was not reloaded');
    assert.match(await row.innerText(), /sleep[\s\S]*alice[\s\S]*ki[12][\s\S]*an1/);

    // Filters: a type nobody uses empties the list; clearing brings the task back.
    await page.getByLabel('Type').fill('no-such-type');
    await page.locator('#tasks-empty').waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Clear' }).click();
    await row.waitFor();
    await page.getByLabel('Status').selectOption('succeeded');
    await row.waitFor();
    assert.match(page.url(), /#\/\?status=succeeded$/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-tasks.png') });

    await row.getByRole('link').click();
    await page.locator('#task-title', { hasText: id }).waitFor();
    await page.locator('.task-head .task-status', { hasText: 'succeeded' }).waitFor();
    assert.equal(await page.locator('#task-view progress').getAttribute('value'), '1');
    const placement = await page.locator('section[aria-labelledby="task-placement"]').innerText();
    assert.match(placement, /An\s+an1/);
    assert.match(placement, /Ki\s+ki[12]/);
    assert.match(await page.locator('section[aria-labelledby="task-result"] pre').innerText(), /"slept": 1500/);
    assert.match(await page.locator('section[aria-labelledby="task-timings"]').innerText(), /Ran\s+1\.\d+ s/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-task.png') });

    await page.getByRole('link', { name: 'All tasks' }).click();
    await page.locator('#list-view').waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Clear' }).click();
    assert.deepEqual(operator.errors, []);
  });

  it('follows a running task on its page until it ends, and shows a failure with its error', async () => {
    const { page } = operator;
    const t = await api('alice', 'submitter').post('/tasks', { type: 'sleep', payload: { ms: 6000 } });
    await page.goto(`${cluster!.url()}/#/tasks/${t.body.id}`);
    await page.locator('.task-head .task-status', { hasText: 'running' }).waitFor({ timeout: 20_000 });
    // No progress reported by this executor: the bar is indeterminate, and a Cancel button is offered.
    assert.equal(await page.locator('#task-view progress').getAttribute('value'), null);
    await page.getByRole('button', { name: 'Cancel task' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-task-running.png') });
    await page.locator('.task-head .task-status', { hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByRole('button', { name: 'Cancel task' }).count(), 0);

    const failing = await api('alice', 'submitter').post('/tasks', { type: 'fail', payload: { message: 'CUDA out of memory' }, maxAttempts: 1 });
    await page.goto(`${cluster!.url()}/#/tasks/${failing.body.id}`);
    await page.locator('.task-head .task-status', { hasText: 'failed' }).waitFor({ timeout: 20_000 });
    assert.match(await page.locator('section[aria-labelledby="task-error"]').innerText(), /TASK_FAILED[\s\S]*CUDA out of memory/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-task-failed.png') });
    await page.getByRole('link', { name: 'All tasks' }).click();
    await page.locator('#list-view').waitFor({ state: 'visible' });
  });

  it('shows a submitter only their own tasks and no cluster view', async () => {
    const mine = await api('bob', 'submitter').post('/tasks', { type: 'echo', payload: 'bob' });
    const bob = await signIn('bob', 'submitter');
    await bob.page.locator(`#tasks-body tr[data-id="${mine.body.id}"]`).waitFor();
    await bob.page.locator('#conn[data-mode="live"]').waitFor({ timeout: 20_000 });
    assert.equal(await bob.page.locator('#cluster-panel').isHidden(), true);
    assert.equal(await bob.page.locator('#owner-field').isHidden(), true);
    const owners = await bob.page.locator('#tasks-body tr').evaluateAll((rows) => rows.map((r) => r.querySelector('.col-owner')?.textContent));
    assert.deepEqual([...new Set(owners)], ['bob']);
    await bob.page.screenshot({ path: join(ARTIFACTS, 'dashboard-submitter.png') });
    await bob.context.close();
    sessions.splice(sessions.indexOf(bob), 1);
  });

  it('draws a workflow as a DAG with every node in its final status and its edges, and lists schedules with their next and last run', async () => {
    const { page } = operator;
    await page.setViewportSize({ width: 1280, height: 800 });
    const alice = api('alice', 'submitter');
    // echo returns its payload, so `a` yields a list of three and `b` runs once per element.
    const wf = await alice.post('/workflows', { name: 'fan-out', tasks: [
      { key: 'a', type: 'echo', payload: [1, 2, 3] },
      { key: 'b', type: 'echo', payload: 'each', dependsOn: ['a'], map: { over: 'a' } },
      { key: 'c', type: 'echo', payload: 'c' },
      { key: 'd', type: 'fail', payload: { message: 'fan-in refused' }, maxAttempts: 1, dependsOn: ['b', 'c'] },
      { key: 'e', type: 'echo', payload: 'never', dependsOn: ['d'] },
    ] });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    const id: string = wf.body.id;

    await page.getByRole('link', { name: 'Workflows' }).click();
    const row = page.locator(`#workflows-body tr[data-id="${id}"]`);
    await row.waitFor({ timeout: 20_000 });
    await row.getByRole('link').click();
    await page.locator('#workflow-status', { hasText: 'failed' }).waitFor({ timeout: 30_000 });
    const want = { a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'failed', e: 'skipped' };
    for (const [key, status] of Object.entries(want)) {
      const box = page.locator(`svg.dag .dag-node[data-key="${key}"]`);
      await box.locator('.dag-status', { hasText: status }).waitFor();
      assert.equal(await box.getAttribute('data-status'), status);
    }
    assert.match(await page.locator('.dag-node[data-key="b"] .dag-status').textContent() ?? '', /succeeded · 3\/3 done/);
    const edges = await page.locator('svg.dag path.dag-edge').evaluateAll((paths) => paths.map((p) => `${p.getAttribute('data-from')}→${p.getAttribute('data-to')}`).sort());
    assert.deepEqual(edges, ['a→b', 'b→d', 'c→d', 'd→e']);
    assert.match(await page.locator('#wf-nodes-body tr[data-node="e"]').innerText(), /skipped[\s\S]*dependency "d" failed/);
    assert.match(await page.locator('#wf-nodes-body tr[data-node="d"]').innerText(), /fan-in refused/);
    const overflow = await page.evaluate(() => {
      interface Box { scrollWidth: number; clientWidth: number }
      const { document: doc, innerWidth } = globalThis as unknown as { document: { documentElement: Box; getElementById(id: string): Box }; innerWidth: number };
      const panel = doc.getElementById('tasks-panel');
      return { page: Math.max(0, doc.documentElement.scrollWidth - innerWidth), panel: panel.scrollWidth - panel.clientWidth };
    });
    assert.deepEqual(overflow, { page: 0, panel: 0 }, 'only the DAG box may scroll sideways at 1280 px');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-workflow.png') });

    // A node's box links to its task, and the task links back to its workflow.
    await page.locator('.dag-node[data-key="a"] a').click();
    await page.locator('#task-title', { hasText: /[0-9a-f-]{36}/ }).waitFor();
    await page.locator('#task-workflow', { hasText: id }).click();
    await page.locator('#workflow-status', { hasText: 'failed' }).waitFor();

    const nightly = await alice.post('/schedules', { name: 'nightly-report', cron: '0 3 * * *', timezone: 'Europe/Berlin', task: { type: 'echo', payload: 1 } });
    const everySecond = await alice.post('/schedules', { name: 'every-second', cron: '* * * * * *', task: { type: 'echo', payload: 2 } });
    assert.equal(nightly.status, 201);
    assert.equal(everySecond.status, 201);
    await waitFor(() => alice.get(`/schedules/${everySecond.body.id}`), (r) => r.body.lastRun?.taskId, { timeoutMs: 20_000, what: 'a first run' });
    await alice.post(`/schedules/${everySecond.body.id}/pause`);
    await page.getByRole('link', { name: 'Schedules' }).click();
    const schedule = page.locator(`#schedules-body tr[data-id="${nightly.body.id}"]`);
    await schedule.waitFor();
    assert.match(await schedule.innerText(), /nightly-report\s+0 3 \* \* \*\s+Europe\/Berlin\s+active/);
    assert.equal(await schedule.locator('.next-run time').getAttribute('datetime'), nightly.body.nextRunAt);
    const paused = page.locator(`#schedules-body tr[data-id="${everySecond.body.id}"]`);
    await paused.locator('.chip', { hasText: 'paused' }).waitFor({ timeout: 10_000 });
    assert.match(await paused.locator('.last-run').innerText(), /created [0-9a-f]{8}/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-schedules.png') });
    await paused.locator('.last-run a').click();
    await page.locator('#task-schedule', { hasText: everySecond.body.id }).waitFor();
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${cluster!.url()}/#/`);
    assert.deepEqual(operator.errors, []);
  });

  it('turns a Ki killed with SIGKILL dead in the tree, over the live stream and over the polling fallback', async () => {
    // A second viewer whose event stream is refused falls back to reading /nodes every 2 s.
    const polling = await signIn('ops2', 'operator', async (context) => { await context.route('**/events?**', (route) => route.fulfill({ status: 503, contentType: 'text/plain', body: 'no streams here' })); });
    await polling.page.locator('#conn[data-mode="polling"]').waitFor({ timeout: 20_000 });
    await polling.page.locator('#node-ki-ki2.status-alive').waitFor();
    await operator.page.locator('#node-ki-ki2.status-alive').waitFor();

    await kis[1]!.kill('SIGKILL');
    for (const s of [operator, polling]) {
      const ki2 = s.page.locator('#node-ki-ki2');
      await s.page.locator('#node-ki-ki2.status-dead').waitFor({ timeout: 20_000 });
      assert.match(await ki2.locator('.status-text').innerText(), /^dead · seen/);
      assert.match(await s.page.locator('#node-ki-ki1').getAttribute('class') ?? '', /status-alive/);
    }
    await waitFor(() => operator.page.locator('#announcer').innerText(), (text) => /ki2 is now (suspect|dead)/.test(text), { timeoutMs: 10_000, what: 'the change announced' });
    assert.equal(await operator.page.locator('#conn').getAttribute('data-mode'), 'live');
    await operator.page.screenshot({ path: join(ARTIFACTS, 'dashboard-ki-dead.png') });
    await polling.page.screenshot({ path: join(ARTIFACTS, 'dashboard-polling.png') });
    assert.deepEqual(operator.errors, []);
    assert.deepEqual(polling.errors, []);
  });
});
