import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqplib from 'amqplib';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { topologyNames } from '../../src/protocol/names';
import { Api, TestCluster, type NodeProcess } from '../helpers/cluster';
import { CHROMIUM, CHROMIUM_ARGS, type DashboardSession, signInWithToken } from '../helpers/dashboard-browser';
import { createIsolation, type Isolation } from '../helpers/isolation';
import { waitFor } from '../helpers/wait';

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
/** Where the README's screenshots live; written only with DASHBOARD_SCREENSHOTS=1, so test runs leave the tree clean. */
const README_IMAGES = join(__dirname, '..', '..', 'docs', 'images');
const STREAM_PLUGIN = join(__dirname, '..', 'fixtures', 'ki', 'plugins', 'stream.js');
const TRACE_URL = 'http://tracing.example/trace/{traceId}';
const FAST = {
  KI_SLOTS: '4', HEARTBEAT_MS: '300', SUSPECT_AFTER_MS: '1500', DEAD_AFTER_MS: '3000', TASK_LEASE_MS: '4000', SWEEP_INTERVAL_MS: '500',
  ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000', PRINCIPAL_QUEUE_DEPTH_INTERVAL_MS: '500', RETRY_BASE_MS: '200', RETRY_MAX_MS: '500',
  AN_QUARANTINE_REFRESH_MS: '500', PRINCIPAL_LIVE_QUARANTINE_REFRESH_MS: '500', KI_HANDLERS: STREAM_PLUGIN,
};
const FAKE_GPUS = JSON.stringify([
  { index: 0, name: 'NVIDIA A100-SXM4-80GB', memoryMiB: 81920, memoryUsedMiB: 20480, utilizationPct: 35 },
  { index: 1, name: 'NVIDIA A100-SXM4-80GB', memoryMiB: 81920, memoryUsedMiB: 61440, utilizationPct: 85 },
]);
const CHART_IDS = ['throughput', 'latency', 'queue', 'slots', 'gpu-memory', 'gpu-util', 'rejected'];

/** How far the page, each panel and each table or chart box in them scroll sideways (0: nothing is cut or scrolls). */
function overflow(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    interface Box { id: string; scrollWidth: number; clientWidth: number; offsetParent: unknown }
    const { document: doc, innerWidth } = globalThis as unknown as { document: { documentElement: Box; querySelectorAll(s: string): Iterable<Box> }; innerWidth: number };
    const out: Record<string, number> = { page: Math.max(0, doc.documentElement.scrollWidth - innerWidth) };
    let i = 0;
    for (const p of doc.querySelectorAll('.panel, .panel .table-wrap, .panel .chart-plot')) {
      if (p.offsetParent !== null) out[p.id || `box${i++}`] = p.scrollWidth - p.clientWidth;
    }
    return out;
  });
}

const zeros = (o: Record<string, number>) => Object.fromEntries(Object.keys(o).map((k) => [k, 0]));

describe('dashboard operations in headless Chromium: charts, a task\'s story, actions, submit (real processes)', function () {
  this.timeout(300_000);
  let iso: Isolation | undefined;
  let cluster: TestCluster | undefined;
  let browser: Browser | undefined;
  let kis: NodeProcess[] = [];
  let spanDir = '';
  const sessions: DashboardSession[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) this.skip();
    mkdirSync(ARTIFACTS, { recursive: true });
    spanDir = mkdtempSync(join(tmpdir(), 'anki-dash-spans-'));
    iso = await createIsolation('dashops');
    cluster = new TestCluster(iso, FAST);
    await cluster.start('principal', { id: 'p1', env: { DASHBOARD_TRACE_URL: TRACE_URL, OTEL_TEST_SPAN_FILE: join(spanDir, 'spans.jsonl') } });
    await cluster.start('an', { id: 'an1' });
    kis = [
      await cluster.start('ki', { id: 'ki1', env: { KI_GPUS: FAKE_GPUS } }),
      await cluster.start('ki', { id: 'ki2', env: { KI_GPUS: 'none', KI_SLOTS: '2' } }),
    ];
    await waitForKis(['ki1', 'ki2']);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const [i, s] of sessions.entries()) await s.page.screenshot({ path: join(ARTIFACTS, `dashboard-ops-failure-${i}.png`), fullPage: true }).catch(() => undefined);
    }
  });

  after(async () => {
    for (const s of sessions) await s.context.close().catch(() => undefined);
    await browser?.close();
    await cluster?.stopAll();
    await iso?.destroy();
    if (spanDir) rmSync(spanDir, { recursive: true, force: true });
  });

  const api = (sub: string, role: 'admin' | 'operator' | 'submitter' | 'viewer') => new Api(cluster!.url(), cluster!.token(sub, role));
  const waitForKis = (ids: string[]) => waitFor(() => api('ops', 'operator').get('/nodes'), (r) => ids.every((id) => r.body.items.some((n: any) => n.id === id && n.status === 'alive' && n.group === 'an1')), { timeoutMs: 30_000, what: `${ids.join(', ')} alive in an1` });
  const taskOf = (id: string) => api('root', 'admin').get(`/tasks/${id}`);

  async function signIn(sub: string, role: 'admin' | 'operator' | 'submitter' | 'viewer', viewport = { width: 1280, height: 800 }): Promise<DashboardSession> {
    const s = await signInWithToken(browser!, cluster!.url(), cluster!.token(sub, role), { viewport });
    // Every action asks first: this person always says yes.
    s.page.on('dialog', (d) => { void d.accept(); });
    sessions.push(s);
    return s;
  }

  let admin: DashboardSession;
  /** The task whose story is told, for the layout check of a task's page. */
  let storyTaskId = '';

  it('draws every chart from the principal\'s series after a burst of tasks, with the latest values in each legend', async () => {
    admin = await signIn('root', 'admin');
    const alice = api('alice', 'submitter');
    const burst = [
      ...Array.from({ length: 40 }, (_, i) => ({ type: 'sleep', payload: { ms: 300 + (i % 5) * 100 } })),
      ...Array.from({ length: 10 }, (_, i) => ({ type: 'echo', payload: { i } })),
      ...Array.from({ length: 4 }, () => ({ type: 'fail', payload: { message: 'burst failure' }, maxAttempts: 1 })),
    ];
    assert.equal((await alice.post('/tasks/batch', { tasks: burst })).status, 201);
    // Messages nobody sealed: the principal refuses them and counts the reason.
    const conn = await amqplib.connect(iso!.amqpUrl);
    const ch = await conn.createChannel();
    const names = topologyNames(iso!.prefix);
    for (let i = 0; i < 3; i++) ch.publish(names.control, names.rk.heartbeat('ki', 'forged'), Buffer.from('not a sealed message'));
    await ch.close();
    await conn.close();

    const { page } = admin;
    await page.getByRole('link', { name: 'Charts', exact: true }).click();
    await page.locator('#charts-title').waitFor();
    await page.locator('[data-chart="throughput"] canvas').waitFor({ timeout: 20_000 });
    for (const id of CHART_IDS) {
      const card = page.locator(`[data-chart="${id}"]`);
      await waitFor(async () => Number(await card.getAttribute('data-max') ?? 0), (max) => max > 0, { timeoutMs: 45_000, what: `chart ${id} to show data` });
      assert.equal(await card.locator('canvas').count() > 0, true, `chart ${id} is drawn`);
    }
    assert.match(await page.locator('[data-chart="gpu-memory"] .chart-legend').innerText(), /ki1\s+80 GiB/);
    assert.match(await page.locator('[data-chart="gpu-util"] .chart-legend').innerText(), /ki1\s+60%/);
    assert.match(await page.locator('[data-chart="rejected"] .chart-legend').innerText(), /\w+\s+[\d.]+\/s/);
    assert.deepEqual(await overflow(page), zeros(await overflow(page)), 'no panel scrolls sideways at 1280 px');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-charts.png') });
    assert.deepEqual(admin.errors, []);
  });

  it('tells a task\'s story: two attempts after its Ki is killed mid-task, with An, Ki, error, output, result and trace', async () => {
    const { page } = admin;
    const t = await api('alice', 'submitter').post('/tasks', { type: 'tokens', payload: { tokens: Array.from({ length: 40 }, (_, i) => `t${i} `), delayMs: 150 }, maxAttempts: 3 });
    assert.equal(t.status, 201);
    const id: string = t.body.id;
    storyTaskId = id;
    await page.goto(`${cluster!.url()}/#/tasks/${id}`);
    const running = await waitFor(() => taskOf(id), (r) => r.body.status === 'running' && r.body.ki, { timeoutMs: 20_000, what: 'the task running' });
    const firstKi: string = running.body.ki;
    await page.locator('#task-output-title').waitFor({ timeout: 10_000 });
    const victim = kis.find((k) => k.id === firstKi)!;
    await victim.kill('SIGKILL');
    await page.locator('.task-head .task-status', { hasText: 'succeeded' }).waitFor({ timeout: 60_000 });
    const rows = page.locator('#task-attempts tbody tr');
    await waitFor(() => rows.count(), (n) => n === 2, { timeoutMs: 10_000, what: 'two attempts on the page' });
    const [first, second] = [await rows.nth(0).innerText(), await rows.nth(1).innerText()];
    assert.match(first, new RegExp(`^1\\s+an1\\s+${firstKi}[\\s\\S]*KI_LOST`));
    const otherKi = firstKi === 'ki1' ? 'ki2' : 'ki1';
    assert.match(second, new RegExp(`^2\\s+an1\\s+${otherKi}[\\s\\S]*succeeded`));
    const timeline = await page.locator('#task-timeline li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-status')}:${li.getAttribute('data-attempt') ?? ''}`));
    assert.equal(timeline[0], 'created:');
    // The first attempt ran, lost its Ki and waited out the backoff; the second one (its dispatch
    // recorded apart or together with its start or end) succeeded.
    assert.ok(timeline.includes('running:1') && timeline.indexOf('scheduled:1') > timeline.indexOf('running:1'), timeline.join(' '));
    assert.ok(timeline.findIndex((e) => e.endsWith(':2')) > timeline.indexOf('scheduled:1'), timeline.join(' '));
    assert.equal(timeline.at(-1), 'succeeded:2');
    await page.locator('pre.output', { hasText: 't39' }).first().waitFor();
    assert.match(await page.locator('section[aria-labelledby="task-result"] pre').innerText(), /"text": "t0 t1/);
    const trace = page.locator('#task-trace');
    assert.match(await trace.getAttribute('href') ?? '', /^http:\/\/tracing\.example\/trace\/[0-9a-f]{32}$/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-task-story.png'), fullPage: true });
    await cluster!.restart(victim);
    kis = kis.map((k) => (k === victim ? cluster!.nodes.at(-1)! : k));
    await waitForKis(['ki1', 'ki2']);

    // An attempt that asked for a GPU shows the one it was given.
    const gpuTask = await api('alice', 'submitter').post('/tasks', { type: 'echo', payload: 1, requirements: { gpus: 1 } }, { Prefer: 'wait=20' });
    assert.equal(gpuTask.body.status, 'succeeded');
    await page.goto(`${cluster!.url()}/#/tasks/${gpuTask.body.id}`);
    assert.match(await page.locator('#task-attempts tbody tr[data-attempt="1"]').innerText(), /ki1\s+ki1: [01]/);

    // A large result is cut on the page and offered whole as a download.
    const big = await api('alice', 'submitter').post('/tasks', { type: 'echo', payload: { blob: 'x'.repeat(30_000) } }, { Prefer: 'wait=20' });
    assert.equal(big.body.status, 'succeeded');
    await page.goto(`${cluster!.url()}/#/tasks/${big.body.id}`);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download the whole result (JSON)' }).click();
    assert.equal((await download).suggestedFilename(), `task-${big.body.id}-result.json`);
    assert.deepEqual(admin.errors, []);
  });

  it('cancels, retries, re-prioritises and deletes tasks from their pages', async () => {
    const { page } = admin;
    const alice = api('alice', 'submitter');
    const long = await alice.post('/tasks', { type: 'sleep', payload: { ms: 60_000 } });
    await page.goto(`${cluster!.url()}/#/tasks/${long.body.id}`);
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await page.locator('.task-head .task-status', { hasText: 'cancelled' }).waitFor();

    const failing = await alice.post('/tasks', { type: 'fail', payload: { message: 'flaky' }, maxAttempts: 1 }, { Prefer: 'wait=20' });
    assert.equal(failing.body.status, 'failed');
    await page.goto(`${cluster!.url()}/#/tasks/${failing.body.id}`);
    await page.getByRole('button', { name: 'Retry task' }).click();
    await page.locator('.notice', { hasText: 'Queued again.' }).waitFor();
    await waitFor(() => taskOf(failing.body.id), (r) => r.body.status === 'failed' && r.body.attempts === 2, { timeoutMs: 20_000, what: 'the retried run to fail again' });
    await page.locator('#task-attempts tbody tr[data-attempt="2"]').waitFor();

    const later = await alice.post('/tasks', { type: 'echo', payload: 1, delayMs: 600_000, priority: 2 });
    await page.goto(`${cluster!.url()}/#/tasks/${later.body.id}`);
    await page.locator('#task-priority').fill('7');
    await page.getByRole('button', { name: 'Set priority' }).click();
    await page.locator('.notice', { hasText: 'Priority set to 7.' }).waitFor();
    assert.equal((await taskOf(later.body.id)).body.priority, 7);
    await page.getByRole('button', { name: 'Delete task' }).click();
    await page.locator('#list-view').waitFor({ state: 'visible' });
    assert.equal((await taskOf(later.body.id)).status, 404);
    assert.deepEqual(admin.errors, []);
  });

  it('cordons an An, cordons, drains and uncordons a Ki, releases a quarantined one, and re-drives and deletes dead letters', async () => {
    const { page } = admin;
    await page.goto(`${cluster!.url()}/#/`);
    const an1 = page.locator('#node-an-an1');
    await page.getByRole('button', { name: 'Cordon an1' }).click();
    await an1.locator('.chip', { hasText: 'cordoned' }).waitFor();
    await page.getByRole('button', { name: 'Uncordon an1' }).click();
    await page.getByRole('button', { name: 'Cordon an1' }).waitFor();
    const ki2 = page.locator('#node-ki-ki2');
    await ki2.getByRole('button', { name: 'Cordon ki2' }).click();
    await ki2.locator('.chip', { hasText: 'cordoned' }).waitFor();
    await ki2.getByRole('button', { name: 'Uncordon ki2' }).click();
    await waitFor(() => ki2.locator('.chip', { hasText: 'cordoned' }).count(), (n) => n === 0, { timeoutMs: 10_000, what: 'the cordon lifted' });
    await ki2.getByRole('button', { name: 'Drain ki2' }).click();
    await ki2.locator('.chip', { hasText: /draining|drained/ }).waitFor();
    await ki2.getByRole('button', { name: 'Uncordon ki2' }).click();
    await ki2.getByRole('button', { name: 'Drain ki2' }).waitFor();

    // Quarantine comes from out-voted redundant answers; set it in the store as the An would.
    const db = new pg.Client({ connectionString: iso!.databaseUrl });
    await db.connect();
    await db.query("INSERT INTO node_reputation (node_id, score, agreed, disagreed, quarantined, updated_at) VALUES ('ki2', 0, 0, 3, true, now()) ON CONFLICT (node_id) DO UPDATE SET quarantined = true");
    await db.end();
    await ki2.locator('.chip', { hasText: 'quarantined' }).waitFor({ timeout: 20_000 });
    await ki2.getByRole('button', { name: 'Release ki2' }).click();
    await waitFor(() => ki2.locator('.chip', { hasText: 'quarantined' }).count(), (n) => n === 0, { timeoutMs: 10_000, what: 'the quarantine lifted' });

    const alice = api('alice', 'submitter');
    const dead: string[] = [];
    for (const message of ['dead one', 'dead two']) dead.push((await alice.post('/tasks', { type: 'fail', payload: { message }, maxAttempts: 1 }, { Prefer: 'wait=20' })).body.id as string);
    await waitFor(() => api('ops', 'operator').get('/dead-letters'), (r) => dead.every((id) => r.body.items.some((l: any) => l.taskId === id)), { timeoutMs: 20_000, what: 'both dead letters stored' });
    await page.getByRole('link', { name: 'Dead letters', exact: true }).click();
    const [redriven, forgotten] = dead.map((id) => page.locator(`#dead-letters-body tr[data-task="${id}"]`));
    await redriven!.getByRole('button', { name: /Re-drive/ }).click();
    await page.locator('.notice', { hasText: 'Re-driven' }).waitFor();
    await waitFor(() => taskOf(dead[0]!), (r) => r.body.attempts === 2, { timeoutMs: 20_000, what: 'the re-driven task to run again' });
    await forgotten!.getByRole('button', { name: /Delete/ }).click();
    await page.locator('.notice', { hasText: 'Forgot' }).waitFor();
    assert.equal(await forgotten!.count(), 0);
    assert.equal((await taskOf(dead[1]!)).body.status, 'failed', 'deleting a letter leaves its task');
    assert.deepEqual(admin.errors, []);
  });

  it('submits a task from the page, refusing a payload that is not JSON', async () => {
    const submitter = await signIn('carol', 'submitter');
    const { page } = submitter;
    await page.getByRole('link', { name: 'Submit', exact: true }).click();
    await page.locator('#submit-type').fill('echo');
    await page.locator('#submit-payload').fill('{"greeting": "hi",}');
    await page.locator('#submit-payload-error', { hasText: 'not valid JSON' }).waitFor();
    await page.getByRole('button', { name: 'Submit task' }).click();
    await page.locator('#submit-error', { hasText: 'not valid JSON' }).waitFor();
    await page.locator('#submit-payload').fill('{"greeting": "hi"}');
    await page.locator('#submit-priority').fill('3');
    await page.getByRole('button', { name: 'Submit task' }).click();
    await page.locator('.task-head .task-status', { hasText: 'succeeded' }).waitFor({ timeout: 20_000 });
    assert.match(await page.locator('section[aria-labelledby="task-result"] pre').innerText(), /"greeting": "hi"/);
    assert.match(await page.locator('section[aria-labelledby="task-details"]').innerText(), /Owner\s+carol[\s\S]*Priority\s+3/);
    assert.deepEqual(submitter.errors, []);
  });

  it('offers a viewer no action, and the API refuses each one with 403', async () => {
    const viewer = await signIn('vic', 'viewer');
    const { page } = viewer;
    for (const link of ['Charts', 'Dead letters', 'Submit']) assert.equal(await page.getByRole('link', { name: link, exact: true }).count(), 0, `no ${link} link`);
    assert.equal(await page.locator('#cluster-panel').isHidden(), true);
    assert.equal(await page.locator('[data-action], [data-node-action], [data-letter-action]').count(), 0);
    const someTask = (await api('alice', 'submitter').post('/tasks', { type: 'echo', payload: 1 })).body.id as string;
    const letter = (await api('ops', 'operator').get('/dead-letters')).body.items[0]?.id as string;
    const v = api('vic', 'viewer');
    const refused = [
      await v.post(`/tasks/${someTask}/cancel`), await v.post(`/tasks/${someTask}/retry`), await v.request('PATCH', `/tasks/${someTask}`, { priority: 1 }),
      await v.request('DELETE', `/tasks/${someTask}`), await v.post('/tasks', { type: 'echo', payload: 1 }),
      await v.post('/nodes/ki2/cordon'), await v.post('/nodes/ki2/drain'), await v.post('/nodes/ki2/uncordon'), await v.post('/nodes/ki2/release'),
      await v.get('/dead-letters'), await v.post(`/dead-letters/${letter}/redrive`), await v.request('DELETE', `/dead-letters/${letter}`), await v.get('/metrics/series'),
    ];
    assert.deepEqual(refused.map((r) => r.status), refused.map(() => 403));
    assert.deepEqual(viewer.errors, []);
  });

  it('holds its layout from a 1280 px laptop to a 1920 px screen, light and dark, and saves the screenshots', async () => {
    const { page } = admin;
    const save = async (name: string, forReadme = true) => {
      await page.screenshot({ path: join(ARTIFACTS, name) });
      if (forReadme && process.env['DASHBOARD_SCREENSHOTS'] === '1') {
        mkdirSync(README_IMAGES, { recursive: true });
        await page.screenshot({ path: join(README_IMAGES, name) });
      }
    };
    for (const width of [1280, 1400, 1920]) {
      await page.setViewportSize({ width, height: width === 1920 ? 1080 : 800 });
      const ready: Record<string, string> = { '#/': '#tasks-body tr', '#/charts': '[data-chart="throughput"] canvas', [`#/tasks/${storyTaskId}`]: '#task-attempts tbody tr', '#/dead-letters': '#dead-letters-body tr' };
      for (const [view, shown] of Object.entries(ready)) {
        await page.goto(`${cluster!.url()}/${view}`);
        await page.locator(shown).first().waitFor();
        const o = await overflow(page);
        assert.deepEqual(o, zeros(o), `nothing scrolls sideways at ${width} px on ${view}`);
      }
      if (width === 1400) continue;
      await page.goto(`${cluster!.url()}/#/charts`);
      await page.locator('[data-chart="rejected"] canvas').waitFor();
      await save(`dashboard-${width}.png`);
    }
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${cluster!.url()}/#/charts`);
    await page.locator('[data-chart="throughput"] canvas').waitFor();
    await save('dashboard-1920-dark.png', false);
    await page.emulateMedia({ colorScheme: 'light' });
    // Keyboard: the views are reachable with Tab from the skip link.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${cluster!.url()}/#/`);
    await page.keyboard.press('Tab');
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id?: string } | null } }).document.activeElement?.id === 'charts-link');
    }
    assert.ok(reached, 'the Charts link is reachable by keyboard');
    assert.deepEqual(admin.errors, []);
  });
});
