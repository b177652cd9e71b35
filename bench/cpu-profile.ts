import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotFunction {
  fn: string;
  where: string;
  selfMs: number;
  selfPct: number;
}

export interface ProfileSummary {
  file: string;
  pid: number | null;
  totalMs: number;
  /** Share of samples spent idle (waiting for I/O); the rest is work on the main thread. */
  idlePct: number;
  top: HotFunction[];
}

/** Shortens a script URL to the part after node_modules/ or the project's dist/. */
function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '') || '(native)';
}

/** Self time per function of one `.cpuprofile` (V8 format), the `limit` largest first. */
export function summarizeProfile(path: string, limit = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byNode = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + (deltas[i] ?? 0)));
  const byFn = new Map<string, HotFunction>();
  let totalUs = 0;
  let idleUs = 0;
  for (const n of p.nodes) {
    const us = byNode.get(n.id) ?? 0;
    totalUs += us;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') { idleUs += us; continue; }
    const where = n.callFrame.url ? `${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const f = byFn.get(key) ?? { fn: name, where, selfMs: 0, selfPct: 0 };
    f.selfMs += us / 1000;
    byFn.set(key, f);
  }
  const pid = /\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(path)?.[1];
  const top = [...byFn.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, limit)
    .map((f) => ({ ...f, selfMs: Math.round(f.selfMs), selfPct: totalUs ? Math.round((f.selfMs * 1000 / totalUs) * 1000) / 10 : 0 }));
  return { file: path, pid: pid ? Number(pid) : null, totalMs: Math.round(totalUs / 1000), idlePct: totalUs ? Math.round((idleUs / totalUs) * 1000) / 10 : 0, top };
}

/** Summaries of every profile in `dir` (written by node `--cpu-prof` when a process exits). */
export function summarizeProfiles(dir: string, limit = 15): ProfileSummary[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort().map((f) => summarizeProfile(join(dir, f), limit));
}
