import { ChaosCluster } from './chaos-cluster';
import { faultSequence, injectFault, type FaultRecord } from './faults';
import { dbCounts } from './invariants';
import { seededRandom } from './rng';
import { Workload } from './workload';

export interface ChaosOptions {
  durationMs: number;
  seed: number;
  principals: number;
  ans: number;
  kis: number;
  ratePerSec: number;
  faultEveryMs: number;
  /** How long to wait, after the load stops, for every accepted task to finish. */
  settleMs: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  durationMs: number;
  accepted: number;
  rejected: Record<string, number>;
  unreachable: number;
  terminal: Record<string, number>;
  lost: string[];
  lostRows: Record<string, unknown>[];
  /** For a run that lost tasks: the faults with their times and every node's log lines naming the first lost tasks. */
  lostTrail: string[];
  executions: number;
  /** Tasks executed more than once: retries after a lost Ki or An (at-least-once allows it). */
  duplicateExecutions: number;
  /** (task, attempt) pairs executed more than once: one assignment run twice. */
  sameAttemptTwice: number;
  completionsSeen: number;
  doubleCompletions: string[];
  retries: number;
  /** Faults injected, by kind. */
  faults: Record<string, number>;
  /** Kinds that could not be injected here, with the reason. */
  skipped: Record<string, string>;
  /** Longest time from a fault to the next finished task, and which fault it was. */
  maxRecoveryMs: number;
  slowestRecovery?: string;
  violations: string[];
  leftoverProcesses: number[];
  /** Nodes that exited on their own (and were started again), with their last log lines. */
  ownExits: { id: string; code: number; lastLines: string[] }[];
}

/** Time until a task finishes again after a fault, measured in the background. */
function measureRecovery(databaseUrl: string, fault: FaultRecord, giveUpAtMs: number): void {
  void (async () => {
    while (Date.now() < giveUpAtMs) {
      const now = await dbCounts(databaseUrl).catch(() => undefined);
      if (now && now.lastFinishMs > fault.atMs) { fault.recoveryMs = now.lastFinishMs - fault.atMs; return; }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
}

/**
 * A real cluster under a steady stream of tasks while seeded faults hit it; then the invariants:
 * every 201'd task terminal, none completed twice, every refusal a clear 4xx/503, no process left.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => undefined);
  const rand = seededRandom(o.seed);
  const chaos = await ChaosCluster.create(log);
  const faults: FaultRecord[] = [];
  let work: Workload | undefined;
  try {
    for (let i = 1; i <= o.principals; i++) await chaos.add('principal', `p${i}`, log);
    for (let i = 1; i <= o.ans; i++) await chaos.add('an', `an${i}`, log);
    for (let i = 1; i <= o.kis; i++) await chaos.add('ki', `ki${i}`, log);
    const { cluster } = chaos;
    const leaderId = async () => {
      for (const p of chaos.live('principal')) {
        try {
          const r = await fetch(`${cluster.url(p)}/cluster`, { headers: { authorization: `Bearer ${cluster.token('ops', 'operator')}` }, signal: AbortSignal.timeout(2000) });
          const body = (await r.json()) as { leader?: { id: string } };
          if (body.leader?.id) return body.leader.id;
        } catch { /* try the next */ }
      }
      return undefined;
    };
    work = await Workload.start({ cluster, iso: chaos.iso, databaseUrl: chaos.databaseUrl, execLog: chaos.execLog, ratePerSec: o.ratePerSec, rand });
    const nextKind = faultSequence(rand);
    const started = Date.now();
    // On a fixed schedule: the time a fault takes to inject does not push the next one out.
    for (let at = started + o.faultEveryMs; at < started + o.durationMs; at += o.faultEveryMs) {
      await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      const fault = await injectFault(nextKind(), { chaos, rand, leaderId, log });
      faults.push(fault);
      if (!fault.skipped) measureRecovery(chaos.databaseUrl, fault, Date.now() + o.faultEveryMs + 30_000);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, started + o.durationMs - Date.now())));
    await chaos.healAll();
    log('load stopping; every fault healed; settling');
    const report = await work.finish(o.settleMs);
    work = undefined;
    const lostTrail = trailOf(cluster.nodes, report.lost.slice(0, 3), faults);
    const pids = chaos.pids();
    chaos.stopping();
    await cluster.stopAll();
    const leftover = pids.filter((pid) => { try { process.kill(pid, 0); return true; } catch { return false; } });
    const injected = faults.filter((f) => !f.skipped);
    const byKind: Record<string, number> = {};
    for (const f of injected) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    const skipped: Record<string, string> = {};
    for (const f of faults) if (f.skipped) skipped[f.kind] = f.skipped;
    const slowest = injected.reduce<FaultRecord | undefined>((a, f) => ((f.recoveryMs ?? 0) > (a?.recoveryMs ?? 0) ? f : a), undefined);
    return {
      seed: o.seed, durationMs: o.durationMs, accepted: report.accepted.length, rejected: report.rejected, unreachable: report.unreachable,
      terminal: report.terminal, lost: report.lost, lostRows: report.lostRows, executions: report.executions, duplicateExecutions: report.duplicateExecutions,
      sameAttemptTwice: report.sameAttemptTwice.length, completionsSeen: report.completionsSeen, doubleCompletions: report.doubleCompletions, retries: report.retries,
      faults: byKind, skipped, maxRecoveryMs: slowest?.recoveryMs ?? 0, ...(slowest ? { slowestRecovery: `${slowest.kind}${slowest.target ? ` ${slowest.target}` : ''}` } : {}),
      violations: report.violations, leftoverProcesses: leftover, ownExits: chaos.ownExits, lostTrail,
    };
  } finally {
    await work?.abandon();
    await chaos.destroy();
  }
}

/** What a run that lost tasks leaves to go on: when each fault hit what, and the log lines of every node that name those tasks. */
function trailOf(nodes: readonly { id: string; logs: readonly string[] }[], ids: readonly string[], faults: readonly FaultRecord[]): string[] {
  if (ids.length === 0) return [];
  const timeline = faults.map((f) => `fault ${new Date(f.atMs).toISOString()} ${f.kind}${f.target ? ` ${f.target}` : ''}${f.skipped ? ' (skipped)' : ''}`);
  const lines = nodes.flatMap((n) => n.logs.filter((l) => ids.some((id) => l.includes(id))).map((l) => `${n.id}: ${l}`));
  return [...timeline, ...lines.slice(0, 60)];
}

/** The summary table. */
export function formatReport(r: ChaosReport): string {
  const rows: [string, string][] = [
    ['seed', String(r.seed)],
    ['duration', `${Math.round(r.durationMs / 1000)} s`],
    ['tasks accepted (201)', String(r.accepted)],
    ['refused clearly (4xx/503)', JSON.stringify(r.rejected)],
    ['requests without an answer (killed, stopped or cut-off principal)', String(r.unreachable)],
    ['faults injected, by kind', Object.entries(r.faults).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'],
    ['fault kinds skipped', Object.entries(r.skipped).map(([k, why]) => `${k} (${why})`).join('; ') || 'none'],
    ['terminal states', JSON.stringify(r.terminal)],
    ['executions', String(r.executions)],
    ['tasks executed more than once', String(r.duplicateExecutions)],
    ['same attempt executed twice', String(r.sameAttemptTwice)],
    ['retries (attempts beyond the first)', String(r.retries)],
    ['tasks lost (201 but not terminal)', String(r.lost.length)],
    ['double completions', String(r.doubleCompletions.length)],
    ['other violations', String(r.violations.length)],
    ['processes left behind', String(r.leftoverProcesses.length)],
    ['nodes that exited on their own (restarted)', r.ownExits.length === 0 ? '0' : `${r.ownExits.length}: ${r.ownExits.map((e) => `${e.id} code ${e.code}`).join(', ')}`],
    ['longest recovery (fault → next task finished)', `${r.maxRecoveryMs} ms${r.slowestRecovery ? ` (${r.slowestRecovery})` : ''}`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
