import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TestCluster, type NodeProcess } from '../test/helpers/cluster';
import type { Isolation } from '../test/helpers/isolation';
import { waitFor } from '../test/helpers/wait';
import type { BenchOptions } from './options';
import type { WatchTarget } from './process-sampler';

interface NodeView {
  id: string;
  role: string;
  status: string;
  slots?: { total: number; busy: number };
}

/** The cluster under test: real `node dist/main.js <role>` processes on one isolation. */
export interface BenchCluster {
  cluster: TestCluster;
  principals: NodeProcess[];
  ans: NodeProcess[];
  kis: NodeProcess[];
  /** REST base URLs of every principal. */
  urls: string[];
  submitterToken: string;
  adminToken: string;
  /** The node processes, for the sampler. */
  watchTargets(): WatchTarget[];
  /** Where `--cpu-prof` writes profiles, when enabled. */
  profileDir?: string;
}

/**
 * The node flags the role's image starts with (between `node` and `dist/main.js` in its
 * Dockerfile's CMD), as NODE_OPTIONS: the benchmark measures the heap settings that ship.
 */
function imageNodeOptions(role: 'principal' | 'an' | 'ki', profileDir: string | undefined): Record<string, string> {
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(readFileSync(resolve(__dirname, '..', `Dockerfile.${role}`), 'utf8'))?.[1];
  const args = cmd ? (JSON.parse(cmd) as string[]) : [];
  const flags = args.slice(1, args.indexOf('dist/main.js')).filter((a) => a.startsWith('--'));
  if (flags.length === 0) return {};
  // The profiler preload (--cpu-prof) travels in NODE_OPTIONS too.
  const preload = profileDir ? `--require ${resolve(__dirname, 'cpu-profiler-preload.cjs')} ` : '';
  return { NODE_OPTIONS: `${preload}${flags.join(' ')}` };
}

/**
 * Starts principals first (one of them must hold the lease before An and Ki join), then An and Ki
 * nodes, and waits until every An reports the slots of its Kis: before that, the An does not
 * consume the pending queue and a phase would time the cluster's start instead of its work.
 */
export async function startBenchCluster(iso: Isolation, o: BenchOptions, runId: string): Promise<BenchCluster> {
  const profileDir = o.cpuProf ? resolve(join(o.outDir, `profiles-${runId}`)) : undefined;
  const cluster = new TestCluster(iso, {
    LOG_LEVEL: 'warn',
    KI_SLOTS: String(o.slots),
    KI_GPUS: 'none',
    // The stream phase's task type: chunks stamped with their emit time.
    KI_HANDLERS: resolve(__dirname, 'stream-plugin.js'),
    // node 20 refuses --cpu-prof in NODE_OPTIONS; a preloaded script runs the same profiler.
    ...(profileDir ? { NODE_OPTIONS: `--require ${resolve(__dirname, 'cpu-profiler-preload.cjs')}`, BENCH_CPU_PROFILE_DIR: profileDir } : {}),
  });
  const b: BenchCluster = {
    cluster, principals: [], ans: [], kis: [], urls: [],
    submitterToken: cluster.token('bench', 'submitter'),
    adminToken: cluster.token('bench-admin', 'admin'),
    watchTargets: () => cluster.nodes.flatMap((n) => (n.proc.pid ? [{ label: n.id, role: n.role, pids: n.proc.pid }] : [])),
    ...(profileDir ? { profileDir } : {}),
  };
  for (let i = 1; i <= o.principals; i++) b.principals.push(await cluster.start('principal', { id: `principal${i}`, env: imageNodeOptions('principal', profileDir) }));
  b.urls = b.principals.map((p) => cluster.url(p));
  await Promise.all(Array.from({ length: o.ans }, async (_, i) => b.ans.push(await cluster.start('an', { id: `an${i + 1}`, env: imageNodeOptions('an', profileDir) }))));
  await Promise.all(Array.from({ length: o.kis }, async (_, i) => b.kis.push(await cluster.start('ki', { id: `ki${i + 1}`, env: imageNodeOptions('ki', profileDir) }))));
  const byId = (x: NodeProcess, y: NodeProcess) => x.id.localeCompare(y.id, 'en', { numeric: true });
  b.ans.sort(byId);
  b.kis.sort(byId);
  const want = o.kis * o.slots;
  await waitFor(async () => {
    const r = await fetch(`${b.urls[0]}/nodes`, { headers: { authorization: `Bearer ${b.adminToken}` } });
    const items = ((await r.json()) as { items: NodeView[] }).items;
    const kisAlive = items.filter((n) => n.role === 'ki' && n.status === 'alive').length;
    const anSlots = items.filter((n) => n.role === 'an' && n.status === 'alive').reduce((s, n) => s + (n.slots?.total ?? 0), 0);
    return { kisAlive, anSlots };
  }, (v) => v.kisAlive === o.kis && v.anSlots === want, { timeoutMs: 30_000, intervalMs: 200, what: `${o.kis} Kis alive and ${want} slots known to the An nodes` });
  return b;
}

/** The last log lines of every node, for a report when something went wrong. */
export function logTails(b: BenchCluster, lines = 20): Record<string, string[]> {
  return Object.fromEntries(b.cluster.nodes.map((n) => [n.id, n.logs.slice(-lines)]));
}

/** What the principal says about the cluster (`/cluster`, `/nodes`): taken when a phase did not finish. */
export async function clusterSnapshot(b: BenchCluster): Promise<Record<string, unknown>> {
  const get = async (path: string): Promise<unknown> => {
    try {
      const r = await fetch(`${b.urls[0]}${path}`, { headers: { authorization: `Bearer ${b.adminToken}` }, signal: AbortSignal.timeout(5_000) });
      return await r.json();
    } catch (err) {
      return { error: (err as Error).message };
    }
  };
  return { cluster: await get('/cluster'), nodes: await get('/nodes') };
}

/**
 * Warn-or-worse log lines of every node, counted by message and error (of the last 5,000 lines each node
 * keeps), with the number of distinct 100 ms windows they fell in: many lines in one window are one event
 * (e.g. one failed group-commit statement logs once per task it carried).
 */
export function logSummary(b: BenchCluster): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const n of b.cluster.nodes) {
    const counts = new Map<string, { lines: number; windows: Set<number> }>();
    const add = (key: string, timeMs: number) => {
      const c = counts.get(key) ?? { lines: 0, windows: new Set<number>() };
      c.lines++;
      c.windows.add(Math.floor(timeMs / 100));
      counts.set(key, c);
    };
    for (const line of n.jsonLogs()) {
      const level = line['level'];
      if (level !== 'warn' && level !== 'error' && level !== 'fatal') continue;
      add(`${String(level)}: ${String(line['msg'] ?? '')}${line['err'] ? ` (${String(line['err']).slice(0, 120)})` : ''}`, Date.parse(String(line['time'] ?? '')) || 0);
    }
    for (const line of n.logs) if (!line.startsWith('{')) add(`text: ${line.slice(0, 160)}`, 0);
    if (counts.size) out[n.id] = Object.fromEntries([...counts].map(([k, c]) => [k, `${c.lines} lines in ${c.windows.size} × 100 ms windows`]));
  }
  return out;
}
