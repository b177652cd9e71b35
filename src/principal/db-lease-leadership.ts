import type { Service } from '../lifecycle';
import { type Logger, type Metrics } from '../observability';
import type { Queryable } from '../store';
import type { Leadership } from './leadership';

const LEASE_NAME = 'principal';

/**
 * Takes or renews the lease by compare-and-set ($1 name, $2 holder, $3 lease ms): a row is returned
 * only to its holder or to a taker of an expired lease, and the term grows with each change of holder.
 */
export const TAKE_LEASE_SQL = `INSERT INTO leader_lease (name, holder, term, expires_at) VALUES ($1::text, $2::text, 1, now() + $3::int8 * interval '1 millisecond')
  ON CONFLICT (name) DO UPDATE SET
    term = CASE WHEN leader_lease.holder = excluded.holder THEN leader_lease.term ELSE leader_lease.term + 1 END,
    holder = excluded.holder, expires_at = excluded.expires_at
  WHERE leader_lease.holder = excluded.holder OR leader_lease.expires_at < now()
  RETURNING term`;

/**
 * Leadership fenced by a lease row taken by compare-and-set. The term grows each time the holder
 * changes, so every leader-only write can carry it and anything with a lower term is refused.
 * A leader that cannot renew before its lease runs out steps down on its own.
 */
export class DbLeaseLeadership implements Service, Leadership {
  readonly name = 'leadership';
  #term = 0;
  #leader: { id: string; term: number } | null = null;
  #leaseUntilMs = 0;
  #timer?: NodeJS.Timeout;
  #stopped = false;

  #liveLeaseSeenMs = Date.now();

  /**
   * `wantsLead` says whether this principal may try to take the lease (the broker's candidate).
   * If no live lease has been seen for two lease periods, any principal tries, so a candidate that
   * cannot reach the DB does not leave the cluster without a leader.
   */
  constructor(private readonly d: { db: Queryable; nodeId: string; leaseMs: number; tickMs: number; metrics: Metrics; log: Logger; wantsLead?: () => boolean }) {}

  /** The fence that leader-only writes carry. */
  fence(): { holder: string; term: number } | null {
    return this.isLeader() ? { holder: this.d.nodeId, term: this.#term } : null;
  }

  get term(): number {
    return this.#term;
  }

  isLeader(): boolean {
    return this.#leader?.id === this.d.nodeId && Date.now() < this.#leaseUntilMs;
  }

  leader(): { id: string; term: number } | null {
    return this.#leader;
  }

  async start(): Promise<void> {
    await this.tick().catch(() => undefined);
    const loop = () => {
      if (this.#stopped) return;
      this.#timer = setTimeout(() => { void this.tick().catch(() => undefined).finally(loop); }, this.d.tickMs);
      this.#timer.unref();
    };
    loop();
  }

  /** One round: try to take or renew the lease (if allowed to lead), then read who holds it. */
  async tick(): Promise<void> {
    const wasLeader = this.isLeader();
    try {
      const orphaned = Date.now() - this.#liveLeaseSeenMs > 2 * this.d.leaseMs;
      if (this.isLeader() || (this.d.wantsLead?.() ?? true) || orphaned) {
        const r = await this.d.db.query<{ term: number }>(TAKE_LEASE_SQL, [LEASE_NAME, this.d.nodeId, this.d.leaseMs]);
        const row = r.rows[0];
        if (row) {
          this.#liveLeaseSeenMs = Date.now();
          // Count the lease from before the statement was sent: never believe it longer than it is.
          this.#leaseUntilMs = Date.now() + this.d.leaseMs - this.d.tickMs;
          this.#leader = { id: this.d.nodeId, term: Number(row.term) };
          this.#term = Math.max(this.#term, Number(row.term));
        }
      }
      if (!this.isLeader()) {
        const cur = await this.d.db.query<{ holder: string; term: number; live: boolean }>('SELECT holder, term, expires_at > now() AS live FROM leader_lease WHERE name = $1', [LEASE_NAME]);
        const row = cur.rows[0];
        this.#leader = row && row.live ? { id: row.holder, term: Number(row.term) } : null;
        if (row?.live) this.#liveLeaseSeenMs = Date.now();
        if (row) this.#term = Math.max(this.#term, Number(row.term));
      }
    } catch (err) {
      this.d.metrics.dbErrors.inc();
      if (wasLeader) this.d.log.warn({ err: (err as Error).message }, 'leader lease not renewed');
      throw err;
    } finally {
      const isLeader = this.isLeader();
      if (isLeader !== wasLeader) this.d.log.info({ term: this.#term, leader: this.#leader?.id }, isLeader ? 'became leader' : 'stepped down');
      this.d.metrics.leader.set(isLeader ? 1 : 0);
      this.d.metrics.leaderTerm.set(this.#term);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.isLeader()) {
      // Hand over at once instead of making the others wait out the lease.
      await this.d.db.query('UPDATE leader_lease SET expires_at = now() WHERE name = $1 AND holder = $2', [LEASE_NAME, this.d.nodeId]).catch(() => undefined);
    }
  }
}
