import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { retrySerializationFailures } from '../../src/store';
import { TestCluster } from '../../test/helpers/cluster';
import { createIsolation } from '../../test/helpers/isolation';
import { TcpProxy } from '../../test/helpers/tcp-proxy';
import { injectFault, type FaultRecord } from './faults';
import { startEventMonitor } from './event-monitor';
import { startLoad } from './load';
import { seededRandom } from './rng';

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
  executions: number;
  duplicateExecutions: number;
  completionsSeen: number;
  doubleCompletions: string[];
  retries: number;
  faults: Record<string, number>;
  maxRecoveryMs: number;
  violations: string[];
  leftoverProcesses: number[];
}

const FAST = { HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '700', DEAD_AFTER_MS: '1500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000', TASK_LEASE_MS: '5000', SWEEP_INTERVAL_MS: '1000', UNPUBLISHED_GRACE_MS: '3000', LOG_LEVEL: 'warn', KI_SLOTS: '4', DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '3000', SHUTDOWN_GRACE_MS: '3000',
  // The load asks for 10 attempts per task, above the submitter's default ceiling of 5.
  TASK_LIMITS: '{"submitter":{"maxAttempts":10}}' };

async function dbCounts(url: string): Promise<{ terminal: Record<string, number>; unfinished: string[]; retries: number; lastFinishMs: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  // At SERIALIZABLE (TEST_DB_SERIALIZABLE=1) PostgreSQL may cancel a plain read with 40001 too.
  const read = <R extends pg.QueryResultRow>(sql: string) => retrySerializationFailures(() => c.query<R>(sql), { maxAttempts: 5 });
  try {
    const r = await read<{ status: string; n: string }>('SELECT status, count(*) AS n FROM tasks GROUP BY status');
    const u = await read<{ id: string }>("SELECT id FROM tasks WHERE status IN ('queued', 'dispatched', 'running')");
    const a = await read<{ n: string; last: Date | null }>('SELECT COALESCE(sum(GREATEST(attempts - 1, 0)), 0) AS n, max(finished_at) AS last FROM tasks');
    return { terminal: Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)])), unfinished: u.rows.map((x) => x.id), retries: Number(a.rows[0]?.n ?? 0), lastFinishMs: a.rows[0]?.last?.getTime() ?? 0 };
  } finally {
    await c.end();
  }
}

/**
 * A real cluster under a steady stream of tasks while seeded faults hit it; then the invariants:
 * every 201'd task terminal, none completed twice, every refusal a clear 4xx/503, no process left.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => undefined);
  const rand = seededRandom(o.seed);
  const iso = await createIsolation('chaos');
  const dbProxy = new TcpProxy(5432);
  await dbProxy.start();
  const execLog = join(tmpdir(), `anki-chaos-exec-${iso.id}.log`);
  writeFileSync(execLog, '');
  const cluster = new TestCluster(iso, {
    ...FAST, DATABASE_URL: iso.databaseUrl.replace(':5432/', `:${dbProxy.port}/`),
    KI_HANDLERS: join(__dirname, 'chaos-plugin.js'), CHAOS_EXEC_LOG: execLog,
  });
  const faults: FaultRecord[] = [];
  const pids = new Set<number>();
  let monitor: Awaited<ReturnType<typeof startEventMonitor>> | undefined;
  try {
    for (let i = 1; i <= o.principals; i++) await cluster.start('principal', { id: `p${i}` });
    for (let i = 1; i <= o.ans; i++) await cluster.start('an', { id: `an${i}` });
    for (let i = 1; i <= o.kis; i++) await cluster.start('ki', { id: `ki${i}` });
    monitor = await startEventMonitor(iso);
    const token = cluster.token('chaos', 'submitter');
    const leaderId = async () => {
      for (const p of cluster.nodes.filter((n) => n.role === 'principal' && n.alive)) {
        try {
          const r = await fetch(`http://127.0.0.1:${p.httpPort}/cluster`, { headers: { authorization: `Bearer ${cluster.token('ops', 'operator')}` }, signal: AbortSignal.timeout(2000) });
          const body = (await r.json()) as { leader?: { id: string } };
          if (body.leader?.id) return body.leader.id;
        } catch { /* try the next */ }
      }
      return undefined;
    };
    const load = startLoad({ principals: () => cluster.nodes.filter((n) => n.role === 'principal'), token, ratePerSec: o.ratePerSec, rand });
    const started = Date.now();
    while (Date.now() - started < o.durationMs) {
      await new Promise((r) => setTimeout(r, o.faultEveryMs));
      if (Date.now() - started >= o.durationMs) break;
      const before = await dbCounts(iso.databaseUrl).catch(() => undefined);
      const fault = await injectFault({ cluster, iso, dbProxy, rand, leaderId, log });
      faults.push(fault);
      // Recovery: time until a task finishes again after the fault.
      const recoveredBy = Date.now() + o.faultEveryMs;
      void (async () => {
        while (Date.now() < recoveredBy + 30_000) {
          const now = await dbCounts(iso.databaseUrl).catch(() => undefined);
          if (now && before && now.lastFinishMs > fault.atMs) { fault.recoveryMs = now.lastFinishMs - fault.atMs; return; }
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
    }
    const stats = await load.stop();
    dbProxy.restore();
    log(`load stopped: ${stats.accepted.length} accepted; settling`);
    const accepted = new Set(stats.accepted);
    const settleBy = Date.now() + o.settleMs;
    let counts = await dbCounts(iso.databaseUrl);
    while (counts.unfinished.some((id) => accepted.has(id)) && Date.now() < settleBy) {
      await new Promise((r) => setTimeout(r, 500));
      counts = await dbCounts(iso.databaseUrl);
    }
    const present = new pg.Client({ connectionString: iso.databaseUrl });
    await present.connect();
    const stored = new Set((await present.query<{ id: string }>('SELECT id FROM tasks WHERE id = ANY($1::uuid[])', [stats.accepted])).rows.map((r) => r.id));
    await present.end();
    const unfinished = new Set(counts.unfinished);
    const lost = stats.accepted.filter((id) => !stored.has(id) || unfinished.has(id));
    await new Promise((r) => setTimeout(r, 1000)); // the last events
    const execLines = readFileSync(execLog, 'utf8').split('\n').filter(Boolean);
    const execPerTask = new Map<string, number>();
    for (const line of execLines) { const id = line.split(' ')[0]!; execPerTask.set(id, (execPerTask.get(id) ?? 0) + 1); }
    for (const n of cluster.nodes) if (n.proc.pid) pids.add(n.proc.pid);
    const completions = monitor.completions;
    await cluster.stopAll();
    const leftover = [...pids].filter((pid) => { try { process.kill(pid, 0); return true; } catch { return false; } });
    const byKind: Record<string, number> = {};
    for (const f of faults) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    return {
      seed: o.seed, durationMs: o.durationMs, accepted: stats.accepted.length, rejected: stats.rejected, unreachable: stats.unreachable,
      terminal: counts.terminal, lost, executions: execLines.length, duplicateExecutions: [...execPerTask.values()].filter((n) => n > 1).length,
      completionsSeen: completions.size, doubleCompletions: [...completions].filter(([, n]) => n > 1).map(([id]) => id), retries: counts.retries,
      faults: byKind, maxRecoveryMs: Math.max(0, ...faults.map((f) => f.recoveryMs ?? 0)), violations: stats.violations, leftoverProcesses: leftover,
    };
  } finally {
    await monitor?.stop().catch(() => undefined);
    await cluster.stopAll().catch(() => undefined);
    await dbProxy.stop();
    await iso.destroy();
  }
}

/** The summary table. */
export function formatReport(r: ChaosReport): string {
  const rows: [string, string][] = [
    ['seed', String(r.seed)],
    ['duration', `${Math.round(r.durationMs / 1000)} s`],
    ['tasks accepted (201)', String(r.accepted)],
    ['refused clearly (4xx/503)', JSON.stringify(r.rejected)],
    ['requests to a killed principal', String(r.unreachable)],
    ['faults injected', Object.entries(r.faults).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'],
    ['terminal states', JSON.stringify(r.terminal)],
    ['executions', String(r.executions)],
    ['tasks executed more than once', String(r.duplicateExecutions)],
    ['retries (attempts beyond the first)', String(r.retries)],
    ['lost (201 but not terminal)', String(r.lost.length)],
    ['double completions', String(r.doubleCompletions.length)],
    ['other violations', String(r.violations.length)],
    ['processes left behind', String(r.leftoverProcesses.length)],
    ['max recovery (fault → next task finished)', `${r.maxRecoveryMs} ms`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
