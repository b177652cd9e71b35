import type { Queryable } from './db';

/** Whether a node takes new work: `cordoned` and `draining` nodes take none. */
export type NodeState = 'active' | 'cordoned' | 'draining';

/** The states an operator may set, in the order of {@link NodeState}. */
export const NODE_STATES: readonly NodeState[] = ['active', 'cordoned', 'draining'];

/** One node's control record, keyed by its stable identity. */
export interface NodeControl {
  nodeId: string;
  state: NodeState;
  reason: string | null;
  changedBy: string | null;
  changedAt: Date;
  /** Benched by the circuit breaker until then (null when never benched or reset by a success). */
  benchedUntil: Date | null;
  benchReason: string | null;
  /** Whether the bench holds now, by the store's clock (every An and principal read one clock). */
  benched: boolean;
  /** Benches since the last success: the next one lasts twice as long. */
  benchCount: number;
}

interface NodeControlRow {
  node_id: string;
  state: NodeState;
  reason: string | null;
  changed_by: string | null;
  changed_at: Date;
  benched_until: Date | null;
  bench_reason: string | null;
  benched: boolean;
  bench_count: number | string;
}

const COLUMNS = 'node_id, state, reason, changed_by, changed_at, benched_until, bench_reason, bench_count, (benched_until IS NOT NULL AND benched_until > now()) AS benched';

function toControl(r: NodeControlRow): NodeControl {
  return {
    nodeId: r.node_id, state: r.state, reason: r.reason, changedBy: r.changed_by, changedAt: r.changed_at,
    benchedUntil: r.benched_until, benchReason: r.bench_reason, benched: r.benched, benchCount: Number(r.bench_count),
  };
}

/**
 * Operator states (cordon, drain) and circuit-breaker benches of nodes, in the store so every An
 * and principal sees one truth. Plain upserts, no advisory locks: CockroachDB runs them as well.
 */
export class NodeControlRepository {
  constructor(private readonly db: Queryable) {}

  /** Sets a node's state (an operator's cordon, drain or uncordon); an uncordon also lifts a bench. */
  async setState(nodeId: string, state: NodeState, reason: string | null, by: string): Promise<NodeControl> {
    const r = await this.db.query<NodeControlRow>(
      `INSERT INTO node_controls (node_id, state, reason, changed_by, changed_at) VALUES ($1::text, $2::text, $3::text, $4::text, now())
       ON CONFLICT (node_id) DO UPDATE SET state = excluded.state, reason = excluded.reason, changed_by = excluded.changed_by, changed_at = excluded.changed_at,
         benched_until = CASE WHEN excluded.state = 'active' THEN NULL ELSE node_controls.benched_until END,
         bench_count = CASE WHEN excluded.state = 'active' THEN 0 ELSE node_controls.bench_count END
       RETURNING ${COLUMNS}`,
      [nodeId, state, reason, by],
    );
    return toControl(r.rows[0]!);
  }

  /** Every node with a record (few: only nodes an operator or the breaker ever touched). */
  async all(): Promise<NodeControl[]> {
    const r = await this.db.query<NodeControlRow>(`SELECT ${COLUMNS} FROM node_controls`);
    return r.rows.map(toControl);
  }

  /**
   * Benches a node for `baseMs`, doubled for every bench since its last success, at most `capMs`.
   * Null when it is benched already: two Ans that saw the same failures bench it once.
   */
  async bench(nodeId: string, reason: string, baseMs: number, capMs: number): Promise<NodeControl | null> {
    const r = await this.db.query<NodeControlRow>(
      `INSERT INTO node_controls (node_id, state, changed_at, benched_until, bench_reason, bench_count)
         VALUES ($1::text, 'active', now(), now() + LEAST($3::float8, $4::float8) * interval '1 millisecond', $2::text, 1)
       ON CONFLICT (node_id) DO UPDATE SET
         benched_until = now() + LEAST($4::float8, $3::float8 * power(2::float8, LEAST(node_controls.bench_count, 40)::float8)) * interval '1 millisecond',
         bench_reason = excluded.bench_reason,
         bench_count = node_controls.bench_count + 1
       WHERE node_controls.benched_until IS NULL OR node_controls.benched_until <= now()
       RETURNING ${COLUMNS}`,
      [nodeId, reason, baseMs, capMs],
    );
    return r.rows[0] ? toControl(r.rows[0]) : null;
  }

  /** A success: the next bench starts from the base again. Leaves a bench that still holds alone. */
  async resetBench(nodeId: string): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE node_controls SET bench_count = 0, benched_until = NULL, bench_reason = NULL
       WHERE node_id = $1::text AND bench_count > 0 AND (benched_until IS NULL OR benched_until <= now())`,
      [nodeId],
    );
    return r.rowCount > 0;
  }
}
