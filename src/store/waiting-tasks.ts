import type { Queryable } from './db';

/** Tasks that wait for a Ki (queued), grouped as an autoscaler reads them. */
export interface WaitingGroup {
  type: string;
  /** `gpu` when the tasks ask for at least one GPU, else `cpu`: which Ki pools they need. */
  resource: 'gpu' | 'cpu';
  /** The deployed model the tasks name; empty when they name none. */
  model: string;
  count: number;
  /** Seconds the oldest of them has waited since it became due (its release, or its submission). */
  oldestSec: number;
}

/**
 * Counts the queued tasks per type, resource class and model, with the age of the oldest, the largest
 * groups first, at most `limit` groups. The age is measured by the database's clock, so a skewed
 * principal does not report tasks from the future. One indexed scan of the queued tasks.
 */
export async function readWaitingTasks(db: Queryable, limit: number): Promise<WaitingGroup[]> {
  const r = await db.query<{ type: string; gpu: boolean; model: string; n: string | number; oldest: string | number | null }>(
    `SELECT type, COALESCE((requirements->>'gpus')::INT, 0) > 0 AS gpu, COALESCE(model, '') AS model, count(*) AS n,
            EXTRACT(EPOCH FROM (now() - min(COALESCE(run_at, created_at)))) AS oldest
     FROM tasks WHERE status = 'queued'
     GROUP BY 1, 2, 3 ORDER BY n DESC, type, model LIMIT $1::INT`,
    [limit],
  );
  return r.rows.map((row) => ({
    type: row.type, resource: row.gpu ? 'gpu' : 'cpu', model: row.model, count: Number(row.n), oldestSec: Math.max(0, Number(row.oldest ?? 0)),
  }));
}
