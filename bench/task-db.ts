import pg from 'pg';
import { sleep } from './clock';

const TERMINAL = `('succeeded', 'failed', 'cancelled')`;

/** Times of one task as the platform stored them, in epoch milliseconds with microseconds. */
export interface TaskTimes {
  id: string;
  status: string;
  createdMs: number;
  /** When the principal recorded the broker's confirm of the pending message. */
  publishedMs: number | null;
  /** When the Ki started the attempt (the Ki's clock, same machine). */
  startedMs: number | null;
  finishedMs: number | null;
  /** When the row was last written: for a terminal task, when its terminal state was stored. */
  updatedMs: number;
}

export interface CompletionWait {
  done: boolean;
  terminal: number;
  /** Client time at the poll that saw the last expected task terminal. */
  seenAtMs: number;
}

/**
 * Reads the platform's own tasks table (the isolation's database) to see when work finished,
 * instead of asking the REST API for every task. Phases are told apart by `created_at`.
 */
export class TaskDb {
  readonly #client: pg.Client;
  constructor(databaseUrl: string) {
    this.#client = new pg.Client({ connectionString: databaseUrl, application_name: 'an-ki-bench' });
  }

  async connect(): Promise<void> {
    await this.#client.connect();
  }

  async close(): Promise<void> {
    await this.#client.end().catch(() => undefined);
  }

  async countTerminalSince(sinceMs: number): Promise<number> {
    const r = await this.#client.query<{ n: string }>(
      `SELECT count(*) AS n FROM tasks WHERE status IN ${TERMINAL} AND created_at >= to_timestamp($1::float8 / 1000)`, [sinceMs]);
    return Number(r.rows[0]?.n ?? 0);
  }

  /** Polls every `intervalMs` until `expected()` tasks created since `sinceMs` are terminal, or the deadline. */
  async waitTerminal(sinceMs: number, expected: () => number | undefined, deadlineMs: number, signal: AbortSignal, intervalMs = 100): Promise<CompletionWait> {
    let terminal = 0;
    while (!signal.aborted) {
      terminal = await this.countTerminalSince(sinceMs);
      const want = expected();
      if (want !== undefined && terminal >= want) return { done: true, terminal, seenAtMs: Date.now() };
      if (Date.now() > deadlineMs) break;
      await sleep(intervalMs);
    }
    return { done: false, terminal, seenAtMs: Date.now() };
  }

  /** Count of tasks created since `sinceMs`, by status: shows where stuck tasks are. */
  async statusCountsSince(sinceMs: number): Promise<Record<string, number>> {
    const r = await this.#client.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM tasks WHERE created_at >= to_timestamp($1::float8 / 1000) GROUP BY status ORDER BY status', [sinceMs]);
    return Object.fromEntries(r.rows.map((row) => [row.status, Number(row.n)]));
  }

  /** First admission and last terminal write of the tasks created since `sinceMs`. */
  async spanSince(sinceMs: number): Promise<{ firstCreatedMs: number | null; lastTerminalMs: number | null }> {
    const r = await this.#client.query<{ first: number | null; last: number | null }>(
      `SELECT extract(epoch FROM min(created_at))::float8 * 1000 AS first,
              extract(epoch FROM max(updated_at) FILTER (WHERE status IN ${TERMINAL}))::float8 * 1000 AS last
         FROM tasks WHERE created_at >= to_timestamp($1::float8 / 1000)`, [sinceMs]);
    return { firstCreatedMs: r.rows[0]?.first ?? null, lastTerminalMs: r.rows[0]?.last ?? null };
  }

  /** Stored times of the given tasks (any status), read in chunks. */
  async times(ids: readonly string[]): Promise<TaskTimes[]> {
    const out: TaskTimes[] = [];
    for (let i = 0; i < ids.length; i += 5_000) {
      const r = await this.#client.query<{ id: string; status: string; c: number; p: number | null; s: number | null; f: number | null; u: number }>(
        `SELECT id, status, extract(epoch FROM created_at)::float8 * 1000 AS c, extract(epoch FROM published_at)::float8 * 1000 AS p,
                extract(epoch FROM started_at)::float8 * 1000 AS s, extract(epoch FROM finished_at)::float8 * 1000 AS f,
                extract(epoch FROM updated_at)::float8 * 1000 AS u
           FROM tasks WHERE id = ANY($1::uuid[])`, [ids.slice(i, i + 5_000)]);
      for (const row of r.rows) out.push({ id: row.id, status: row.status, createdMs: row.c, publishedMs: row.p, startedMs: row.s, finishedMs: row.f, updatedMs: row.u });
    }
    return out;
  }

  async countTerminalOf(ids: readonly string[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < ids.length; i += 5_000) {
      const r = await this.#client.query<{ n: string }>(
        `SELECT count(*) AS n FROM tasks WHERE id = ANY($1::uuid[]) AND status IN ${TERMINAL}`, [ids.slice(i, i + 5_000)]);
      n += Number(r.rows[0]?.n ?? 0);
    }
    return n;
  }
}
