import type { Database, Queryable } from './db';
import type { TaskRecord } from './task-record';
import type { TaskRepository } from './task-repository';
import { sqlStates } from './transition-guard';
import { ACTIVE_STATUSES } from '../task';

/** The statuses of `tasks_tenant_active_idx`: queued, dispatched, running. */
const ACTIVE_SQL = sqlStates(ACTIVE_STATUSES);

/** What an admin sets for a tenant (`PUT /tenants/{name}`); null: no cap. */
export interface TenantSettings {
  /** Share of the publish window and of dispatch, relative to the other tenants with work. */
  weight: number;
  maxRunning: number | null;
  maxQueued: number | null;
  /** GPU-seconds the tenant may use per accounting period before its submissions are refused. */
  gpuSecondsBudget: number | null;
}

/** The settings of a tenant no admin configured. */
export const DEFAULT_TENANT_SETTINGS: Readonly<TenantSettings> = Object.freeze({ weight: 1, maxRunning: null, maxQueued: null, gpuSecondsBudget: null });

export interface TenantRecord extends TenantSettings {
  name: string;
  updatedAt: Date;
}

/** A tenant's unfinished tasks as the store counts them; `held` are queued ones not yet published. */
export interface TenantCounts {
  queued: number;
  held: number;
  running: number;
}

interface TenantRow { name: string; weight: number; max_running: number | null; max_queued: number | null; gpu_seconds_budget: number | null; updated_at: Date }

const fromRow = (r: TenantRow): TenantRecord => ({
  name: r.name, weight: Number(r.weight), maxRunning: r.max_running === null ? null : Number(r.max_running), maxQueued: r.max_queued === null ? null : Number(r.max_queued),
  gpuSecondsBudget: r.gpu_seconds_budget === null ? null : Number(r.gpu_seconds_budget), updatedAt: r.updated_at,
});

/** Tenant settings, held tasks and GPU-seconds, in the SQL PostgreSQL and CockroachDB share. */
export class TenantRepository {
  constructor(private readonly db: Database, private readonly tasks: TaskRepository) {}

  async upsert(name: string, s: TenantSettings): Promise<TenantRecord> {
    const r = await this.db.query<TenantRow>(
      `INSERT INTO tenants (name, weight, max_running, max_queued, gpu_seconds_budget, updated_at) VALUES ($1::text, $2::int, $3::int, $4::int, $5::float8, now())
       ON CONFLICT (name) DO UPDATE SET weight = excluded.weight, max_running = excluded.max_running, max_queued = excluded.max_queued,
         gpu_seconds_budget = excluded.gpu_seconds_budget, updated_at = excluded.updated_at
       RETURNING name, weight, max_running, max_queued, gpu_seconds_budget, updated_at`,
      [name, s.weight, s.maxRunning, s.maxQueued, s.gpuSecondsBudget],
    );
    return fromRow(r.rows[0]!);
  }

  async list(): Promise<TenantRecord[]> {
    const r = await this.db.query<TenantRow>('SELECT name, weight, max_running, max_queued, gpu_seconds_budget, updated_at FROM tenants ORDER BY name');
    return r.rows.map(fromRow);
  }

  /**
   * Unfinished tasks by tenant. Reads the partial index of unfinished rows and the held-task table,
   * never the whole task table; a row from before tenants existed counts for its owner.
   */
  async counts(): Promise<Map<string, TenantCounts>> {
    // Grouped by the indexed column alone (an index-only count); only rows without a tenant are read for their owner.
    const [tenanted, legacy, held] = await Promise.all([
      this.db.query<{ tenant: string | null; status: string; n: string | number }>(
        `SELECT tenant, status, count(*) AS n FROM tasks WHERE status IN (${ACTIVE_SQL}) GROUP BY tenant, status`,
      ),
      this.db.query<{ tenant: string; status: string; n: string | number }>(
        `SELECT owner AS tenant, status, count(*) AS n FROM tasks WHERE tenant IS NULL AND status IN (${ACTIVE_SQL}) GROUP BY owner, status`,
      ),
      this.db.query<{ tenant: string; n: string | number }>('SELECT tenant, count(*) AS n FROM task_holds GROUP BY tenant'),
    ]);
    const active = [...tenanted.rows.filter((r): r is typeof r & { tenant: string } => r.tenant !== null), ...legacy.rows];
    const out = new Map<string, TenantCounts>();
    const of = (t: string) => { let c = out.get(t); if (!c) out.set(t, (c = { queued: 0, held: 0, running: 0 })); return c; };
    for (const r of active) {
      if (r.status === 'queued') of(r.tenant).queued += Number(r.n);
      else of(r.tenant).running += Number(r.n);
    }
    for (const r of held.rows) of(r.tenant).held += Number(r.n);
    return out;
  }

  /**
   * Stores tasks of which those in `heldIds` are held back: in one transaction with their hold
   * rows, and marked published, so that the sweeper leaves them to the fair releaser. A crash
   * leaves either all of it or none.
   */
  insertWithHolds(tasks: readonly TaskRecord[], heldIds: ReadonlySet<string>, q?: Queryable): Promise<void> {
    const write = async (tx: Queryable) => {
      await this.tasks.insertMany(tasks, tx);
      await this.addHolds(tasks.filter((t) => heldIds.has(t.id)), tx);
    };
    return q ? write(q) : this.db.transaction(write);
  }

  /** Holds back stored tasks (inside the caller's transaction): hold rows, and marked published. */
  async addHolds(held: readonly TaskRecord[], q: Queryable): Promise<void> {
    if (held.length === 0) return;
    const params: unknown[] = [];
    const rows = held.map((t) => { params.push(t.tenant ?? t.owner, t.createdAt, t.id); const b = params.length; return `($${b - 2}::text, $${b - 1}::timestamptz, $${b}::uuid)`; });
    await q.query(`INSERT INTO task_holds (tenant, created_at, id) VALUES ${rows.join(', ')} ON CONFLICT DO NOTHING`, params);
    await q.query('UPDATE tasks SET published_at = now() WHERE id = ANY($1::uuid[])', [held.map((t) => t.id)]);
  }

  /** The ids of a tenant's oldest held tasks. */
  async heldOf(tenant: string, limit: number): Promise<string[]> {
    const r = await this.db.query<{ id: string }>('SELECT id FROM task_holds WHERE tenant = $1::text ORDER BY created_at, id LIMIT $2::int8', [tenant, limit]);
    return r.rows.map((x) => x.id);
  }

  /** Forgets holds: the task was published (or finished, or deleted, while held). */
  async dropHolds(tenant: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query('DELETE FROM task_holds WHERE tenant = $1::text AND id = ANY($2::uuid[])', [tenant, ids]);
  }

  /**
   * Accounts the GPU-seconds of finished tasks (run time of the last attempt × GPUs asked for)
   * to their tenants' usage in the period starting at `periodStart`, each task at most once:
   * the task's own `gpu_seconds` is written in the same transaction and guards a second pass.
   * Returns what was added, by tenant.
   */
  async accountGpuSeconds(ids: readonly string[], periodStart: Date): Promise<Map<string, number>> {
    const added = new Map<string, number>();
    if (ids.length === 0) return added;
    await this.db.transaction(async (q) => {
      added.clear();
      const r = await q.query<{ tenant: string; gpu_seconds: number | string }>(
        `UPDATE tasks SET gpu_seconds = GREATEST(0, EXTRACT(EPOCH FROM (finished_at - started_at))) * COALESCE((requirements->>'gpus')::float8, 0)
         WHERE id = ANY($1::uuid[]) AND gpu_seconds IS NULL AND started_at IS NOT NULL AND finished_at IS NOT NULL
         RETURNING COALESCE(tenant, owner) AS tenant, gpu_seconds`,
        [ids],
      );
      for (const row of r.rows) {
        const s = Number(row.gpu_seconds);
        if (s > 0) added.set(row.tenant, (added.get(row.tenant) ?? 0) + s);
      }
      for (const [tenant, s] of added) {
        await q.query(
          `INSERT INTO tenant_gpu_usage (tenant, period_start, gpu_seconds) VALUES ($1::text, $2::timestamptz, $3::float8)
           ON CONFLICT (tenant, period_start) DO UPDATE SET gpu_seconds = tenant_gpu_usage.gpu_seconds + excluded.gpu_seconds`,
          [tenant, periodStart, s],
        );
      }
    });
    return added;
  }

  /** GPU-seconds used in the period starting at `periodStart`, by tenant. */
  async gpuSecondsIn(periodStart: Date): Promise<Map<string, number>> {
    const r = await this.db.query<{ tenant: string; gpu_seconds: number | string }>('SELECT tenant, gpu_seconds FROM tenant_gpu_usage WHERE period_start = $1::timestamptz', [periodStart]);
    return new Map(r.rows.map((x) => [x.tenant, Number(x.gpu_seconds)]));
  }
}
