/**
 * Weighted-fair arithmetic of the publish window, without I/O: how much of the window a tenant
 * may hold in the broker, how many of a new submission go to the broker at once, and which held
 * tasks the leader publishes next.
 */

/** One tenant as the window sees it. */
export interface TenantLoad {
  name: string;
  weight: number;
  /** Queued tasks in the broker or an An's look-ahead: published, not yet started. */
  inBroker: number;
  /** Queued tasks stored but held back, waiting for the releaser. */
  held: number;
  /** Dispatched or running. */
  running: number;
  maxRunning: number | null;
}

/** Whether a tenant has work waiting, and so takes part in the split of the window. */
export const hasWaitingWork = (t: Pick<TenantLoad, 'inBroker' | 'held'>): boolean => t.inBroker + t.held > 0;

/**
 * A tenant's share of the window: `window × weight / Σ weights` over the tenants with waiting work
 * and itself, at least 1 so that every tenant makes progress.
 */
export function shareOf(tenant: Pick<TenantLoad, 'name' | 'weight'>, all: readonly TenantLoad[], window: number): number {
  let total = tenant.weight;
  for (const t of all) if (t.name !== tenant.name && hasWaitingWork(t)) total += t.weight;
  return Math.max(1, Math.floor((window * tenant.weight) / Math.max(1, total)));
}

/** How many more tasks a tenant may have published now: its share left, and room under its running cap. */
export function roomOf(tenant: TenantLoad, all: readonly TenantLoad[], window: number): number {
  let room = shareOf(tenant, all, window) - tenant.inBroker;
  if (tenant.maxRunning !== null) room = Math.min(room, tenant.maxRunning - tenant.running - tenant.inBroker);
  return Math.max(0, room);
}

/**
 * How many of `count` new queued tasks go to the broker at once (the rest are held). A tenant
 * that has tasks held already holds new ones too: they must not pass its older ones.
 */
export function publishNowCount(tenant: TenantLoad, all: readonly TenantLoad[], window: number, count: number): number {
  if (tenant.held > 0) return 0;
  return Math.min(count, roomOf(tenant, all, window));
}

/**
 * Deficit round robin over the tenants with held tasks, kept across passes: on its turn a tenant
 * gains `weight` credits and is served while it has a whole credit, room (its share left, its
 * running cap) and the window has a free place. A turn cut short by a full window goes on at the
 * next pass without new credit; a tenant without room loses its credit, as DRR prescribes. So
 * however few places free up per pass, tenants are served in proportion to their weights.
 */
export class DeficitRoundRobin {
  readonly #deficits = new Map<string, number>();
  /** Where the next pass starts: that tenant, and whether its turn is open (its credit given, not yet spent). */
  #next?: { name: string; open: boolean };

  /** How many held tasks of each tenant to publish now. */
  plan(all: readonly TenantLoad[], window: number): Map<string, number> {
    const plan = new Map<string, number>();
    let left = window - all.reduce((n, t) => n + t.inBroker, 0);
    const waiting = all.filter((t) => t.held > 0).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const rooms = new Map(waiting.map((t) => [t.name, Math.min(t.held, roomOf(t, all, window))]));
    for (const name of this.#deficits.keys()) if (!rooms.has(name)) this.#deficits.delete(name);
    if (waiting.length === 0) { this.#next = undefined; return plan; }
    // Go on where the last pass stopped (a tenant that has gone: the next one in name order).
    const next = this.#next;
    let i = next === undefined ? 0 : waiting.findIndex((t) => t.name >= next.name);
    if (i < 0) i = 0;
    let opened = next !== undefined && next.open && waiting[i]!.name === next.name;
    let idle = 0;
    while (left > 0 && idle < waiting.length) {
      const t = waiting[i]!;
      const room = rooms.get(t.name)!;
      if (room <= 0) {
        this.#deficits.set(t.name, 0);
        idle++;
      } else {
        const credit = (this.#deficits.get(t.name) ?? 0) + (opened ? 0 : t.weight);
        const take = Math.min(Math.floor(credit), room, left);
        this.#deficits.set(t.name, credit - take);
        rooms.set(t.name, room - take);
        left -= take;
        if (take > 0) { plan.set(t.name, (plan.get(t.name) ?? 0) + take); idle = 0; }
        if (left === 0 && credit - take >= 1 && room - take > 0) { this.#next = { name: t.name, open: true }; return plan; }
      }
      i = (i + 1) % waiting.length;
      opened = false;
    }
    this.#next = { name: waiting[i]!.name, open: false };
    return plan;
  }
}
