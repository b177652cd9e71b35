import type { Queryable } from './db';

export interface Reputation {
  nodeId: string;
  score: number;
  agreed: number;
  disagreed: number;
  quarantined: boolean;
}

/** Starting score; agreeing adds 1 (up to the start), disagreeing subtracts `penalty`. */
export const REPUTATION_START = 10;

/** Ki reputation from redundant execution, kept in the DB so every An and principal sees one truth. */
export class ReputationRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Records a vote's outcome: majority Kis gain, minority Kis lose `penalty`; a Ki whose score falls
   * to `quarantineBelow` or less is quarantined. Returns the Kis quarantined by this call.
   */
  async record(majority: readonly string[], minority: readonly string[], penalty: number, quarantineBelow: number): Promise<string[]> {
    const rows = [...majority.map((id) => [id, 1, 1, 0] as const), ...minority.map((id) => [id, -penalty, 0, 1] as const)];
    if (rows.length === 0) return [];
    const params: unknown[] = [REPUTATION_START, quarantineBelow];
    const values = rows.map(([id, delta, agreed, disagreed]) => {
      params.push(id, delta, agreed, disagreed);
      const b = params.length;
      return `($${b - 3}::text, $${b - 2}::bigint, $${b - 1}::bigint, $${b}::bigint)`;
    });
    const r = await this.db.query<{ node_id: string; quarantined: boolean; was: boolean }>(
      `INSERT INTO node_reputation (node_id, score, agreed, disagreed, quarantined, updated_at)
       SELECT v.id, $1::bigint + v.delta, v.agreed, v.disagreed, $1::bigint + v.delta <= $2::bigint, now()
       FROM (VALUES ${values.join(', ')}) AS v(id, delta, agreed, disagreed)
       ON CONFLICT (node_id) DO UPDATE SET
         score = LEAST($1::bigint, node_reputation.score + excluded.score - $1::bigint),
         agreed = node_reputation.agreed + excluded.agreed,
         disagreed = node_reputation.disagreed + excluded.disagreed,
         quarantined = node_reputation.quarantined OR node_reputation.score + excluded.score - $1::bigint <= $2::bigint,
         updated_at = now()
       RETURNING node_id, quarantined`,
      params,
    );
    return r.rows.filter((x) => x.quarantined && minority.includes(x.node_id)).map((x) => x.node_id);
  }

  async quarantined(): Promise<Set<string>> {
    const r = await this.db.query<{ node_id: string }>('SELECT node_id FROM node_reputation WHERE quarantined');
    return new Set(r.rows.map((x) => x.node_id));
  }

  async all(): Promise<Reputation[]> {
    const r = await this.db.query<{ node_id: string; score: number; agreed: number; disagreed: number; quarantined: boolean }>('SELECT node_id, score, agreed, disagreed, quarantined FROM node_reputation');
    return r.rows.map((x) => ({ nodeId: x.node_id, score: Number(x.score), agreed: Number(x.agreed), disagreed: Number(x.disagreed), quarantined: x.quarantined }));
  }

  /** An operator's release: the Ki takes work again with a fresh score. Returns false when unknown. */
  async release(nodeId: string): Promise<boolean> {
    const r = await this.db.query('UPDATE node_reputation SET quarantined = false, score = $2, updated_at = now() WHERE node_id = $1', [nodeId, REPUTATION_START]);
    return r.rowCount > 0;
  }
}
