import { requireOwnHeartbeat, Membership, type Hearing, type Heartbeat, type Member, reportRefusedMembers } from '../cluster';
import type { AppConfig } from '../config';
import { type Logger, type Metrics } from '../observability';
import type { NodeControl, NodeControlRepository, ReputationRepository } from '../store';
import { heldOutKeys } from './held-out';
import type { CarriedBy } from '../protocol';
import type { Received } from '../transport';
import type { KiPool } from './ki-pool';

/** Whether the member still counts as there (a dead or left one was already reported lost). */
const isLive = (m: Member): boolean => m.status === 'alive' || m.status === 'suspect';

/**
 * Whether `next` comes from another process than `prev`: its issued instance (issued mode) or its
 * start time (both modes) changed.
 */
export function isRestart(prev: Heartbeat, next: Heartbeat): boolean {
  return prev.instance !== next.instance || prev.startedAtMs !== next.startedAtMs;
}

/** What {@link KiTracker} needs. */
export interface KiTrackerDeps {
  config: { cluster: AppConfig['cluster'] };
  /** The An's group: only its Kis join the pool. */
  group: string;
  pool: KiPool;
  reputation: Pick<ReputationRepository, 'quarantined'>;
  /** Cordons, drains and breaker benches (keyed by stable id). */
  controls: Pick<NodeControlRepository, 'all'>;
  /** The controls as last read (the circuit breaker learns which Kis were benched before). */
  onControls?: (controls: readonly NodeControl[]) => void;
  log: Logger;
  metrics: Pick<Metrics, 'membershipRefused' | 'kisQuarantined' | 'kisHeldOut'>;
  /** The pool's capacity may have changed: resize the window and place what fits. */
  onCapacityChanged: () => void;
  /**
   * A Ki died, left or restarted: the replicas it held will never report. `why` says which, for
   * the error stored with the attempt.
   */
  onKiLost: (ki: Member, why: string) => void;
  /**
   * This An's own heartbeat, heard back, shows whether the Kis' silence is theirs: while this An
   * does not hear itself (cut off from the broker, frozen), no Ki is judged lost.
   */
  hearing?: Hearing;
}

/**
 * The Kis as this An sees them: membership of the whole cluster (from heartbeats, with dead and
 * left detection), and the pool of its own group that it places tasks on.
 */
export class KiTracker {
  readonly #kis: Membership;

  constructor(private readonly d: KiTrackerDeps) {
    this.#kis = new Membership(d.config.cluster, Date.now, d.hearing);
    reportRefusedMembers(this.#kis, { log: d.log, counter: d.metrics.membershipRefused, maxMembers: d.config.cluster.maxMembers });
  }

  /** Starts following members' status changes. */
  start(): void {
    this.#kis.on('change', (m, prev) => this.#onKiStatus(m, prev));
    this.#kis.on('removed', (m) => this.#forget(m.id));
    this.#kis.on('paused', (sinceMs) => this.d.log.warn({ since: new Date(sinceMs).toISOString() }, 'this an does not hear the cluster (broker connection down or own heartbeat not back): no ki is judged lost meanwhile'));
    this.#kis.on('resumed', (deafForMs) => this.d.log.info({ deafForMs }, 'this an hears the cluster again; the kis\' silence meanwhile is not held against them'));
  }

  /** A heartbeat from the control exchange. */
  onHeartbeat({ msg, delivery }: Received<CarriedBy<'anControl'>>): void {
    // Before the ack: a heartbeat for another node throws, and the bus dead-letters and counts it.
    const hb = requireOwnHeartbeat(msg);
    delivery.ack();
    if (this.d.hearing?.echo(hb) || hb.role !== 'ki') return;
    const before = this.#kis.get('ki', hb.id);
    if (before && isLive(before) && isRestart(before.heartbeat, hb)) this.#onRestart(before);
    if (!this.#kis.observe(hb)) return;
    if (hb.group !== this.d.group || hb.status === 'leaving') {
      if (this.d.pool.remove(hb.id)) this.d.onCapacityChanged();
      return;
    }
    if (this.d.pool.upsert(hb)) this.d.onCapacityChanged();
  }

  /** Moves members whose heartbeats stopped towards suspect and dead. */
  tick(): void {
    this.#kis.tick();
  }

  /**
   * Kis take no new work while quarantined, cordoned, draining or benched: reads the lists again
   * from the store (a cordon or a bench set elsewhere is known here within one refresh).
   */
  async refreshQuarantine(): Promise<void> {
    const [quarantined, controls] = await Promise.all([this.d.reputation.quarantined(), this.d.controls.all()]);
    this.d.metrics.kisQuarantined.set(quarantined.size);
    this.d.pool.setQuarantined(quarantined);
    const held = heldOutKeys(controls);
    for (const [reason, keys] of Object.entries(held.byReason)) this.d.metrics.kisHeldOut.set({ reason }, keys);
    this.d.pool.setHeldOut(held.keys);
    this.d.onControls?.(controls);
    this.d.onCapacityChanged();
  }

  /** Kis of any group that could take work: the cluster-wide view for "could this ever run?". */
  clusterKis(): Heartbeat[] {
    return this.#kis.list().filter(isLive).map((m) => m.heartbeat);
  }

  #onKiStatus(m: Member, prev: string | undefined): void {
    if (m.status !== 'dead' && m.status !== 'left') return;
    if (this.d.pool.has(m.id)) this.d.log.warn({ ki: m.id, status: m.status, prev }, 'ki lost');
    this.#forget(m.id);
    this.d.onKiLost(m, `ki ${m.id} is ${m.status}`);
  }

  /**
   * The same Ki id heartbeats from a new process before the old one was declared dead (a crashed
   * container restarted in its pod): the new process never knew the old one's attempts, which
   * would otherwise wait for their leases forever. They are lost now. The pool entry stays, so
   * the slots of those attempts are given back to the entry that lent them.
   */
  #onRestart(before: Member): void {
    this.d.log.warn({ ki: before.id, status: before.status }, 'ki restarted; the attempts of its previous process are lost');
    this.d.onKiLost(before, `ki ${before.id} restarted`);
  }

  #forget(id: string): void {
    if (this.d.pool.remove(id)) this.d.onCapacityChanged();
  }
}
