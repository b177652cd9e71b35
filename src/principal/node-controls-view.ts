import type { Member } from '../cluster';
import type { NodeControl, NodeControlRepository, NodeState } from '../store';

/** What /nodes adds to a member from its control record and its own heartbeat. */
export interface NodeControlFields {
  /** The identity reputation, cordon and benches are kept under. */
  stableId: string;
  state: NodeState;
  /** Draining, and nothing runs on it any more: it may be stopped or uncordoned. */
  drained: boolean;
  stateReason?: string;
  stateChangedBy?: string;
  stateChangedAt?: string;
  benched: boolean;
  benchedUntil?: string;
  benchReason?: string;
}

/** The stable identity a member's controls are kept under. */
export const stableIdOf = (m: Pick<Member, 'id' | 'heartbeat'>): string => m.heartbeat.stableId ?? m.id;

/**
 * The node controls as the principal last read them, and when it first saw each drain: a drained
 * Ki is one that reports no running attempt in a heartbeat sent `settleMs` (an An's refresh of
 * the controls and a heartbeat) after that, so no An may still place on it.
 */
export class NodeControlsView {
  #byKey = new Map<string, NodeControl>();
  readonly #drainSeenMs = new Map<string, number>();

  constructor(private readonly d: { controls: Pick<NodeControlRepository, 'all'>; settleMs: number; now?: () => number }) {}

  async refresh(): Promise<void> {
    const all = await this.d.controls.all();
    const now = (this.d.now ?? Date.now)();
    this.#byKey = new Map(all.map((c) => [c.nodeId, c]));
    for (const key of this.#drainSeenMs.keys()) if (this.#byKey.get(key)?.state !== 'draining') this.#drainSeenMs.delete(key);
    for (const c of all) if (c.state === 'draining' && !this.#drainSeenMs.has(c.nodeId)) this.#drainSeenMs.set(c.nodeId, now);
  }

  /** Whether a control record exists under this stable id. */
  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  fieldsOf(m: Pick<Member, 'id' | 'heartbeat' | 'lastSeenMs'>): NodeControlFields {
    const key = stableIdOf(m);
    const c = this.#byKey.get(key);
    const selfDraining = m.heartbeat.state === 'draining' || m.heartbeat.state === 'drained';
    const state: NodeState = c && c.state !== 'active' ? c.state : selfDraining ? 'draining' : 'active';
    const seen = this.#drainSeenMs.get(key);
    const settled = c?.state === 'draining' && seen !== undefined && m.lastSeenMs >= seen + this.d.settleMs && m.heartbeat.slots.busy === 0;
    return {
      stableId: key, state, drained: m.heartbeat.state === 'drained' || settled,
      ...(c && c.state !== 'active' ? { ...(c.reason ? { stateReason: c.reason } : {}), ...(c.changedBy ? { stateChangedBy: c.changedBy } : {}), stateChangedAt: c.changedAt.toISOString() } : {}),
      benched: c?.benched ?? false,
      ...(c?.benched && c.benchedUntil ? { benchedUntil: c.benchedUntil.toISOString(), ...(c.benchReason ? { benchReason: c.benchReason } : {}) } : {}),
    };
  }
}
