import type { Member, Membership } from '../cluster';
import { configSchema } from '../config';
import type { Logger } from '../observability';
import { type TopologyNames, assignRoute } from '../protocol';
import type { MessageBus } from '../transport';
import type { Leadership } from './leadership';

/** What the assigner needs; tests pass fakes and a clock. */
export interface GroupAssignerDeps {
  membership: Membership;
  bus: MessageBus;
  names: TopologyNames;
  leadership: Leadership;
  log: Logger;
  /**
   * How long an assignment counts as in effect before the Ki's heartbeat confirms it.
   * @defaultValue `principal.groupAssignPendingMs` of the config schema (3000)
   */
  pendingMs?: number;
  /**
   * Moves of idle Kis per round when rebalancing, so groups change gradually.
   * @defaultValue `principal.groupMaxMovesPerRound` of the config schema (2)
   */
  maxMovesPerRound?: number;
  now?: () => number;
}

/** A Ki's weight in its group: its slots, plus one per 16 GiB of GPU memory. */
export function kiWeight(m: Member): number {
  const gpuMiB = m.heartbeat.gpus.reduce((s, g) => s + g.memoryMiB, 0);
  return m.heartbeat.slots.total + gpuMiB / 16384;
}

/**
 * The leader's role assignment: every live An is a group; each Ki belongs to one. A Ki without a
 * live group (new, or its An died) goes to the lightest group at once; when groups are uneven
 * (e.g. a new An joined) idle Kis move from the heaviest to the lightest, so running tasks are
 * never interrupted. Assignments carry the leader's term; Kis ignore lower terms.
 */
export class GroupAssigner {
  readonly #pending = new Map<string, { group: string; atMs: number }>();
  readonly #pendingMs: number;
  readonly #maxMovesPerRound: number;
  constructor(private readonly d: GroupAssignerDeps) {
    this.#pendingMs = d.pendingMs ?? configSchema.principal.groupAssignPendingMs.default;
    this.#maxMovesPerRound = d.maxMovesPerRound ?? configSchema.principal.groupMaxMovesPerRound.default;
  }

  /** The moves this round would make: Ki id → group. Pure; exported for tests through {@link plan}. */
  plan(nowMs = (this.d.now ?? Date.now)()): Map<string, string> {
    const live = (m: Member) => m.status === 'alive' || m.status === 'suspect';
    const groups = [...new Set(this.d.membership.byRole('an').filter((m) => live(m) && m.heartbeat.status === 'alive').map((m) => m.heartbeat.group))].sort();
    const moves = new Map<string, string>();
    if (groups.length === 0) return moves;
    const kis = this.d.membership.byRole('ki').filter(live).sort((a, b) => a.id.localeCompare(b.id));
    const groupOf = (k: Member) => {
      const p = this.#pending.get(k.id);
      if (p && p.group !== k.heartbeat.group && nowMs - p.atMs < this.#pendingMs) return p.group;
      return k.heartbeat.group;
    };
    const load = new Map(groups.map((g) => [g, 0]));
    for (const k of kis) if (load.has(groupOf(k))) load.set(groupOf(k), load.get(groupOf(k))! + kiWeight(k));
    const lightest = () => [...load.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0]!;
    const heaviest = () => [...load.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]!;

    for (const k of kis) {
      if (load.has(groupOf(k))) continue;
      const [g, l] = lightest();
      moves.set(k.id, g);
      load.set(g, l + kiWeight(k));
    }
    for (let i = 0; i < this.#maxMovesPerRound; i++) {
      const [hg, hl] = heaviest();
      const [lg, ll] = lightest();
      const candidate = kis
        .filter((k) => groupOf(k) === hg && !moves.has(k.id) && k.heartbeat.slots.busy === 0 && kiWeight(k) < hl - ll)
        .sort((a, b) => kiWeight(a) - kiWeight(b))[0];
      if (!candidate) break;
      moves.set(candidate.id, lg);
      load.set(hg, hl - kiWeight(candidate));
      load.set(lg, ll + kiWeight(candidate));
    }
    return moves;
  }

  /** The group this leader last assigned to a Ki, while it remembers the assignment. */
  assignedGroup(kiId: string): string | undefined {
    return this.#pending.get(kiId)?.group;
  }

  /** One round, on the leader only. */
  async assign(): Promise<void> {
    const fence = this.d.leadership.fence();
    if (!fence) return;
    const now = (this.d.now ?? Date.now)();
    for (const [kiId, group] of this.plan(now)) {
      const prev = this.#pending.get(kiId);
      if (!prev || prev.group !== group || now - prev.atMs >= this.#pendingMs / 3) {
        // Each send waits for the one before: a leader frozen or cut off meanwhile may have lost
        // its lease, and must not go on sending under a term that is no longer its own.
        if (this.d.leadership.fence()?.term !== fence.term) return;
        this.#pending.set(kiId, { group, atMs: prev?.group === group ? prev.atMs : now });
        if (!prev || prev.group !== group) this.d.log.info({ ki: kiId, group, term: fence.term }, 'assigning ki to group');
        await this.d.bus.send(assignRoute(this.d.names, kiId), 'node.assign', { v: 1, nodeId: kiId, group, term: fence.term });
      }
    }
    for (const [kiId, p] of this.#pending) if (now - p.atMs > 10 * this.#pendingMs) this.#pending.delete(kiId);
  }
}
