import type { NodeProcess } from './cluster';

/** What became of each submission of a {@link startTaskStream}. */
export interface StreamStats {
  /** Ids of the tasks answered 201: each is a promise the platform must keep. */
  accepted: string[];
  /** Answers other than 201, as `status from node`, and requests that got no answer. */
  refused: string[];
}

/**
 * Submits one task every `everyMs` to the live principals in turn until stopped, each a `sleep` of
 * a few ms with attempts to spare (a node loss may cost a task an attempt or two).
 */
export function startTaskStream(o: { principals: () => NodeProcess[]; token: string; everyMs: number; maxAttempts?: number }): { readonly stats: StreamStats; stop: () => Promise<StreamStats> } {
  const stats: StreamStats = { accepted: [], refused: [] };
  let seq = 0;
  const inflight = new Set<Promise<void>>();
  const submitOne = async () => {
    const live = o.principals().filter((p) => p.alive && p.httpPort);
    const p = live[seq % Math.max(1, live.length)];
    const n = seq++;
    if (!p) { stats.refused.push(`no principal for #${n}`); return; }
    try {
      const r = await fetch(`http://127.0.0.1:${p.httpPort}/tasks`, {
        method: 'POST', headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'sleep', payload: { ms: 20 + (n % 5) * 10, seq: n }, maxAttempts: o.maxAttempts ?? 5 }), signal: AbortSignal.timeout(15_000),
      });
      const json = (await r.json().catch(() => ({}))) as { id?: string };
      if (r.status === 201 && json.id) stats.accepted.push(json.id);
      else stats.refused.push(`${r.status} from ${p.id} for #${n}`);
    } catch (err) {
      stats.refused.push(`no answer from ${p.id} for #${n}: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(() => {
    const pr = submitOne().finally(() => inflight.delete(pr));
    inflight.add(pr);
  }, o.everyMs);
  return {
    stats,
    stop: async () => {
      clearInterval(timer);
      await Promise.all([...inflight]);
      return stats;
    },
  };
}
