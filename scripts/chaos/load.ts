import type { NodeProcess } from '../../test/helpers/cluster';

/** What happened to each submission. */
export interface LoadStats {
  accepted: string[];
  rejected: Record<string, number>;
  unreachable: number;
  violations: string[];
}

/**
 * Submits tasks at a steady rate to a random live principal until stopped. A 201 is a promise the
 * platform must keep; 4xx and 503 are clear refusals; anything else (a 5xx, a 201 without an id)
 * is a violation. A connection refused by a principal that was just killed is not a promise.
 */
export function startLoad(o: { principals: () => NodeProcess[]; token: string; ratePerSec: number; rand: () => number }): { stop: () => Promise<LoadStats> } {
  const stats: LoadStats = { accepted: [], rejected: {}, unreachable: 0, violations: [] };
  let seq = 0;
  let stopped = false;
  const inflight = new Set<Promise<void>>();
  const submitOne = async () => {
    const live = o.principals().filter((p) => p.alive && p.httpPort);
    if (live.length === 0) { stats.unreachable++; return; }
    const p = live[Math.floor(o.rand() * live.length)]!;
    const n = seq++;
    const body = { type: 'chaos-work', payload: { ms: 20 + Math.floor(o.rand() * 180), seq: n }, maxAttempts: 10 };
    try {
      const r = await fetch(`http://${p.host}:${p.httpPort}/tasks`, {
        method: 'POST', headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000),
      });
      const json = (await r.json().catch(() => ({}))) as { id?: string; title?: string };
      if (r.status === 201 && json.id) stats.accepted.push(json.id);
      else if (r.status === 201) stats.violations.push(`201 without an id (seq ${n})`);
      else if (r.status >= 400 && r.status < 500 || r.status === 503) stats.rejected[String(r.status)] = (stats.rejected[String(r.status)] ?? 0) + 1;
      else stats.violations.push(`status ${r.status} from ${p.id} (seq ${n})`);
    } catch {
      stats.unreachable++;
    }
  };
  const timer = setInterval(() => {
    if (stopped) return;
    const pr = submitOne().finally(() => inflight.delete(pr));
    inflight.add(pr);
  }, Math.max(1, Math.round(1000 / o.ratePerSec)));
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...inflight]);
      return stats;
    },
  };
}
