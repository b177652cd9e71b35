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

/** Ends the lease now, if this holder still holds it at this term ($1 name, $2 holder, $3 term). */
const RELEASE_LEASE_SQL = 'UPDATE leader_lease SET expires_at = now() WHERE name = $1 AND holder = $2 AND term = $3';

/** What {@link DbLeaseLeadership} needs. */
export interface DbLeaseLeadershipDeps {
  db: Queryable;
  nodeId: string;
  leaseMs: number;
  tickMs: number;
  metrics: Metrics;
  log: Logger;
  /**
   * Whether this principal is the broker's candidate: it tries to take the lease first thing each
   * round. Any other principal takes it when it reads it free (expired or released), so a
   * candidate that cannot reach the DB, or a frozen leader the broker still counts as its
   * consumer, leaves the cluster without a leader for no longer than the lease.
   * @defaultValue always
   */
  wantsLead?: () => boolean;
  /**
   * Whether this principal hears the cluster (broker connected, its own heartbeat coming back). A
   * principal that does not never takes the lease, and a leader that stops hearing releases it at
   * once: a leader that cannot talk to the cluster must not act on it.
   * @defaultValue always
   */
  canLead?: () => boolean;
}

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

  constructor(private readonly d: DbLeaseLeadershipDeps) {}

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

  /** The leader as last read; never this principal once its own lease ran out (it may have been frozen). */
  leader(): { id: string; term: number } | null {
    if (this.#leader?.id === this.d.nodeId && !this.isLeader()) return null;
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

  /** One round: release the lease if this leader cannot hear the cluster, else try to take or renew it, then read who holds it. */
  async tick(): Promise<void> {
    const wasLeader = this.isLeader();
    let why: string | undefined;
    try {
      const canLead = this.d.canLead?.() ?? true;
      const tryFirst = wasLeader || (canLead && (this.d.wantsLead?.() ?? true));
      if (wasLeader && !canLead) {
        why = 'this principal does not hear the cluster';
        await this.#release();
      } else if (tryFirst) {
        await this.#take();
      }
      // Read free (expired or released): whoever hears the cluster takes it now, candidate or not.
      if (!this.isLeader() && !(await this.#read()) && canLead && !tryFirst) {
        await this.#take();
        if (!this.isLeader()) await this.#read();
      }
    } catch (err) {
      this.d.metrics.dbErrors.inc();
      if (wasLeader) this.d.log.warn({ err: (err as Error).message }, 'leader lease not renewed');
      throw err;
    } finally {
      const isLeader = this.isLeader();
      if (isLeader !== wasLeader) this.d.log.info({ term: this.#term, leader: this.#leader?.id, ...(why ? { why } : {}) }, isLeader ? 'became leader' : 'stepped down');
      this.d.metrics.leader.set(isLeader ? 1 : 0);
      this.d.metrics.leaderTerm.set(this.#term);
    }
  }

  /** Reads who holds the lease; false when nobody holds it live. */
  async #read(): Promise<boolean> {
    const cur = await this.d.db.query<{ holder: string; term: number; live: boolean }>('SELECT holder, term, expires_at > now() AS live FROM leader_lease WHERE name = $1', [LEASE_NAME]);
    const row = cur.rows[0];
    this.#leader = row && row.live ? { id: row.holder, term: Number(row.term) } : null;
    if (row) this.#term = Math.max(this.#term, Number(row.term));
    return this.#leader !== null;
  }

  async #take(): Promise<void> {
    // Count the lease from before the statement was sent: never believe it longer than it is, even
    // when this process was frozen between the statement and its answer.
    const sentAtMs = Date.now();
    const r = await this.d.db.query<{ term: number }>(TAKE_LEASE_SQL, [LEASE_NAME, this.d.nodeId, this.d.leaseMs]);
    const row = r.rows[0];
    if (!row) return;
    this.#leaseUntilMs = sentAtMs + this.d.leaseMs - this.d.tickMs;
    this.#leader = { id: this.d.nodeId, term: Number(row.term) };
    this.#term = Math.max(this.#term, Number(row.term));
  }

  /** Stops acting at once, then ends the lease so that another principal need not wait it out. */
  async #release(): Promise<void> {
    const term = this.#term;
    this.#leaseUntilMs = 0;
    this.#leader = null;
    await this.d.db.query(RELEASE_LEASE_SQL, [LEASE_NAME, this.d.nodeId, term]);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // Hand over at once instead of making the others wait out the lease.
    if (this.isLeader()) await this.#release().catch(() => undefined);
  }
}
