import type { Requirements } from '../protocol';
import type { Database } from './db';
import { json } from './task-row';

/** What `POST /models` deploys: a model a plug-in's `models` hooks of `type` load. */
export interface ModelSettings {
  /** The model type: the key of the plug-in's `models` hooks that load and unload it. */
  type: string;
  /** What a Ki needs to hold the model; tasks naming the model ask for at least this. */
  requirements: Requirements;
  /** How many Kis the leader keeps the model loaded on. */
  warm: { min: number; max: number };
  /** Passed to the load hook as is (weights path, dtype, ...). */
  config: Record<string, unknown>;
}

export interface ModelRecord extends ModelSettings {
  name: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The measured demand of one model over a recent window (see {@link ModelRepository.demand}). */
export interface ModelDemandRow {
  model: string;
  /** Tasks submitted within the window. */
  arrived: number;
  /** Tasks that succeeded within the window. */
  served: number;
  /** Tasks waiting for a Ki now (queued or dispatched), among those of the look-back. */
  waiting: number;
  /** When the oldest queued task of the look-back was submitted; null when none waits. */
  oldestQueuedAt: Date | null;
}

interface ModelRow {
  name: string; type: string; requirements: Requirements; warm_min: number; warm_max: number; config: Record<string, unknown>;
  created_by: string; created_at: Date; updated_at: Date;
}

const COLUMNS = 'name, type, requirements, warm_min, warm_max, config, created_by, created_at, updated_at';

const fromRow = (r: ModelRow): ModelRecord => ({
  name: r.name, type: r.type, requirements: r.requirements, warm: { min: Number(r.warm_min), max: Number(r.warm_max) }, config: r.config,
  createdBy: r.created_by, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** Deployed models, and the demand the tasks naming them make, in the SQL PostgreSQL and CockroachDB share. */
export class ModelRepository {
  constructor(private readonly db: Database) {}

  /** Deploys a model, or redeploys it with new settings; `created` says which. */
  async upsert(name: string, s: ModelSettings, by: string): Promise<{ model: ModelRecord; created: boolean }> {
    const r = await this.db.query<ModelRow & { inserted: boolean }>(
      `INSERT INTO models (${COLUMNS}) VALUES ($1::text, $2::text, $3::jsonb, $4::int, $5::int, $6::jsonb, $7::text, now(), now())
       ON CONFLICT (name) DO UPDATE SET type = excluded.type, requirements = excluded.requirements, warm_min = excluded.warm_min,
         warm_max = excluded.warm_max, config = excluded.config, updated_at = excluded.updated_at
       RETURNING ${COLUMNS}, (created_at = updated_at) AS inserted`,
      [name, s.type, json(s.requirements), s.warm.min, s.warm.max, json(s.config), by],
    );
    const row = r.rows[0]!;
    return { model: fromRow(row), created: row.inserted };
  }

  async list(): Promise<ModelRecord[]> {
    const r = await this.db.query<ModelRow>(`SELECT ${COLUMNS} FROM models ORDER BY name`);
    return r.rows.map(fromRow);
  }

  /** Removes a model; false when there was none of that name. Tasks that named it keep the name. */
  async delete(name: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM models WHERE name = $1::text RETURNING name', [name]);
    return r.rows.length > 0;
  }

  /**
   * Each model's arrivals and completions within the last `windowMs`, and its waiting tasks, read
   * through `tasks_model_created_idx` over the last `lookbackMs` of submissions only: a task
   * queued for longer than the look-back is not counted (it is long past any scaling decision).
   */
  async demand(models: readonly string[], windowMs: number, lookbackMs: number): Promise<ModelDemandRow[]> {
    if (models.length === 0) return [];
    const r = await this.db.query<{ model: string; arrived: string | number; served: string | number; waiting: string | number; oldest_queued_at: Date | null }>(
      `SELECT model,
         count(*) FILTER (WHERE created_at > now() - $2::int8 * interval '1 millisecond') AS arrived,
         count(*) FILTER (WHERE status = 'succeeded' AND finished_at > now() - $2::int8 * interval '1 millisecond') AS served,
         count(*) FILTER (WHERE status IN ('queued', 'dispatched')) AS waiting,
         min(created_at) FILTER (WHERE status = 'queued') AS oldest_queued_at
       FROM tasks WHERE model = ANY($1::text[]) AND created_at > now() - $3::int8 * interval '1 millisecond'
       GROUP BY model`,
      [models, windowMs, Math.max(windowMs, lookbackMs)],
    );
    return r.rows.map((x) => ({ model: x.model, arrived: Number(x.arrived), served: Number(x.served), waiting: Number(x.waiting), oldestQueuedAt: x.oldest_queued_at }));
  }
}
