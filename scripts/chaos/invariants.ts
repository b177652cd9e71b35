import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { retrySerializationFailures } from '../../src/store';

/** Task rows by status, the ids not yet terminal, the retries and the last finish, read straight from the run's database. */
export interface DbCounts {
  terminal: Record<string, number>;
  unfinished: string[];
  retries: number;
  lastFinishMs: number;
}

export async function dbCounts(url: string): Promise<DbCounts> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, query_timeout: 10_000 });
  c.on('error', () => undefined);
  await c.connect();
  // At SERIALIZABLE (TEST_DB_SERIALIZABLE=1) PostgreSQL may cancel a plain read with 40001 too.
  const read = <R extends pg.QueryResultRow>(sql: string) => retrySerializationFailures(() => c.query<R>(sql), { maxAttempts: 5 });
  try {
    const r = await read<{ status: string; n: string }>('SELECT status, count(*) AS n FROM tasks GROUP BY status');
    const u = await read<{ id: string }>("SELECT id FROM tasks WHERE status IN ('queued', 'dispatched', 'running')");
    const a = await read<{ n: string; last: Date | null }>('SELECT COALESCE(sum(GREATEST(attempts - 1, 0)), 0) AS n, max(finished_at) AS last FROM tasks');
    return { terminal: Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)])), unfinished: u.rows.map((x) => x.id), retries: Number(a.rows[0]?.n ?? 0), lastFinishMs: a.rows[0]?.last?.getTime() ?? 0 };
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * The file the chaos-work plug-in appends one line per execution to (task, attempt, node), and
 * the node environment that offers that task type.
 */
export class ExecutionLog {
  readonly path: string;
  constructor(label: string) {
    this.path = join(tmpdir(), `anki-chaos-exec-${label}.log`);
    writeFileSync(this.path, '');
  }

  /** For every node of the run: the chaos-work type, its log, and room for the load's 10 attempts. */
  nodeEnv(): Record<string, string> {
    return { KI_HANDLERS: join(__dirname, 'chaos-plugin.js'), CHAOS_EXEC_LOG: this.path, TASK_LIMITS: '{"submitter":{"maxAttempts":10}}' };
  }

  /** Executions per task, and the (task, attempt) pairs that ran more than once. */
  read(): { executions: number; perTask: Map<string, number>; sameAttemptTwice: string[] } {
    const lines = readFileSync(this.path, 'utf8').split('\n').filter(Boolean);
    const perTask = new Map<string, number>();
    const perAttempt = new Map<string, number>();
    for (const line of lines) {
      const [id = '', attempt = ''] = line.split(' ');
      perTask.set(id, (perTask.get(id) ?? 0) + 1);
      perAttempt.set(`${id} ${attempt}`, (perAttempt.get(`${id} ${attempt}`) ?? 0) + 1);
    }
    return { executions: lines.length, perTask, sameAttemptTwice: [...perAttempt].filter(([, n]) => n > 1).map(([k]) => k) };
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}

/** What became of the promises of a run. */
export interface PromiseCheck {
  terminal: Record<string, number>;
  /** 201'd tasks not stored, or not terminal when the settle time ran out. */
  lost: string[];
  /** The rows of the first lost tasks, to tell where each got stuck. */
  lostRows: Record<string, unknown>[];
  /** Tasks whose terminal event the monitor saw. */
  completionsSeen: number;
  /** Tasks whose terminal event was published more than once: completed twice. */
  doubleCompletions: string[];
  executions: number;
  /** Tasks executed more than once (a retry after a lost Ki or An: allowed, at-least-once). */
  duplicateExecutions: number;
  /** (task, attempt) pairs executed more than once: one assignment run twice. Reported, not forbidden. */
  sameAttemptTwice: string[];
  retries: number;
}

/**
 * Waits up to `settleMs` for every accepted task to be terminal, then checks the promises: each
 * 201 stored and terminal, no task completed twice (from the completions the event monitor
 * counted), and how often tasks ran.
 */
export async function settleAndCheck(o: { databaseUrl: string; accepted: readonly string[]; completions: ReadonlyMap<string, number>; execLog: ExecutionLog; settleMs: number }): Promise<PromiseCheck> {
  const accepted = new Set(o.accepted);
  const settleBy = Date.now() + o.settleMs;
  let counts = await dbCounts(o.databaseUrl);
  while (counts.unfinished.some((id) => accepted.has(id)) && Date.now() < settleBy) {
    await new Promise((r) => setTimeout(r, 500));
    counts = await dbCounts(o.databaseUrl);
  }
  const present = new pg.Client({ connectionString: o.databaseUrl });
  await present.connect();
  const stored = new Set((await present.query<{ id: string }>('SELECT id FROM tasks WHERE id = ANY($1::uuid[])', [o.accepted])).rows.map((r) => r.id));
  const unfinished = new Set(counts.unfinished);
  const lost = o.accepted.filter((id) => !stored.has(id) || unfinished.has(id));
  const lostRows = (await present.query('SELECT id, status, attempts, an, ki, published_at, lease_expires_at, created_at, updated_at FROM tasks WHERE id = ANY($1::uuid[])', [lost.slice(0, 10)])).rows;
  await present.end();
  await new Promise((r) => setTimeout(r, 1000)); // the last events
  const runs = o.execLog.read();
  return {
    terminal: counts.terminal,
    lost,
    lostRows,
    completionsSeen: o.completions.size,
    doubleCompletions: [...o.completions].filter(([, n]) => n > 1).map(([id]) => id),
    executions: runs.executions,
    duplicateExecutions: [...runs.perTask.values()].filter((n) => n > 1).length,
    sameAttemptTwice: runs.sameAttemptTwice,
    retries: counts.retries,
  };
}
