// What open dashboards cost the principal: CPU and memory of the principal process under a steady
// stream of tasks, first with no dashboard open, then with N dashboards that do what the page does
// with its charts open (the live feed over server-sent events; /cluster, the task list and
// /metrics/series every 5 s). Prints both phases side by side.
//
//   npm run build && node --import tsx bench/dashboards.ts [--dashboards 50] [--seconds 60] [--rate 20]
import { setTimeout as sleep } from 'node:timers/promises';
import { Api, TestCluster, type NodeProcess } from '../test/helpers/cluster';
import { createIsolation } from '../test/helpers/isolation';
import { waitFor } from '../test/helpers/wait';
import { ProcessSampler } from './process-sampler';

const say = (line: string) => process.stdout.write(`${line}\n`);

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i === -1 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} takes a positive number`);
  return v;
}

/** Submits `ratePerSec` echo tasks a second until `signal` aborts; counts what was accepted. */
async function steadyLoad(api: Api, ratePerSec: number, signal: AbortSignal): Promise<number> {
  let accepted = 0;
  while (!signal.aborted) {
    const r = await api.post('/tasks/batch', { tasks: Array.from({ length: ratePerSec }, (_, i) => ({ type: 'echo', payload: { i } })) });
    if (r.status === 201) accepted += ratePerSec;
    await sleep(1000, undefined, { signal }).catch(() => undefined);
  }
  return accepted;
}

interface DashboardStats { requests: number; failures: number; feedBytes: number; seriesMs: number[] }

/** One dashboard with its charts open: the live feed, and the page's reads every 5 s. */
async function dashboard(api: Api, signal: AbortSignal, stats: DashboardStats): Promise<void> {
  const { ticket } = (await api.post('/events/ticket')).body as { ticket: string };
  const feed = fetch(`${api.baseUrl}/events?ticket=${encodeURIComponent(ticket)}`, { signal }).then(async (res) => {
    for await (const chunk of res.body ?? []) stats.feedBytes += (chunk as Uint8Array).length;
  }).catch(() => undefined);
  // Pages opened together would read together; a person opens them a little apart.
  await sleep(Math.random() * 5000, undefined, { signal }).catch(() => undefined);
  while (!signal.aborted) {
    const started = performance.now();
    const answers = await Promise.all([api.get('/metrics/series'), api.get('/cluster'), api.get('/tasks?limit=50')]).catch(() => []);
    stats.seriesMs.push(performance.now() - started);
    stats.requests += 3;
    stats.failures += answers.filter((r) => r.status !== 200).length + (answers.length ? 0 : 3);
    await sleep(5000, undefined, { signal }).catch(() => undefined);
  }
  await feed;
}

async function phase(label: string, principal: NodeProcess, api: Api, o: { seconds: number; rate: number; dashboards: number }) {
  const stop = new AbortController();
  const stats: DashboardStats = { requests: 0, failures: 0, feedBytes: 0, seriesMs: [] };
  const pages = Array.from({ length: o.dashboards }, () => dashboard(api, stop.signal, stats));
  const load = steadyLoad(api, o.rate, stop.signal);
  await sleep(5000); // the dashboards are open and reading before the window starts
  const sampler = new ProcessSampler([{ label: 'principal', role: 'principal', pids: principal.proc.pid! }], 500);
  sampler.start();
  await sleep(o.seconds * 1000);
  const [usage] = sampler.stop();
  stop.abort();
  const accepted = await load;
  await Promise.all(pages);
  const sorted = stats.seriesMs.sort((a, b) => a - b);
  const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? 0;
  say(`${label.padEnd(16)} cpu ${usage!.avgCpuPct.toFixed(1).padStart(5)} %   peak rss ${usage!.peakRssMb!.toFixed(0).padStart(4)} MiB   tasks ${accepted}   ` +
    `dashboard requests ${stats.requests} (${stats.failures} failed, p95 of a refresh ${p95.toFixed(0)} ms)   live feed ${(stats.feedBytes / 1024).toFixed(0)} KiB`);
}

async function main(): Promise<void> {
  const o = { dashboards: option('dashboards', 50), seconds: option('seconds', 60), rate: option('rate', 20) };
  const iso = await createIsolation('dashbench');
  const cluster = new TestCluster(iso, { KI_SLOTS: '8', LOG_LEVEL: 'warn' });
  try {
    const principal = await cluster.start('principal', { id: 'p1' });
    await cluster.start('an', { id: 'an1' });
    await cluster.start('ki', { id: 'ki1' });
    await cluster.start('ki', { id: 'ki2' });
    const api = new Api(cluster.url(), cluster.token('bench', 'operator'));
    await waitFor(() => api.get('/nodes'), (r) => r.body.items.filter((n: { role: string; status: string }) => n.role === 'ki' && n.status === 'alive').length === 2, { timeoutMs: 30_000, what: 'both Kis' });
    say(`principal under ${o.rate} tasks/s for ${o.seconds} s per phase; ${o.dashboards} dashboards in the second`);
    await phase('no dashboard', principal, api, { ...o, dashboards: 0 });
    await phase(`${o.dashboards} dashboards`, principal, api, o);
  } finally {
    await cluster.stopAll();
    await iso.destroy();
  }
}

main().catch((err: Error) => {
  say(`dashboards bench failed: ${err.stack ?? err.message}`);
  process.exitCode = 1;
});
