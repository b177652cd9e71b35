import { replicaTargets } from './replica-targets';

/** A deployed model with its warm range and measured demand. */
export interface PlanModel {
  name: string;
  min: number;
  max: number;
  /** Requests per second it should serve: arrivals over the window plus its backlog over the horizon. */
  demand: number;
}

/** A model resident on a Ki, as its heartbeats report it (or as a command just sent makes it). */
export interface PlanReplica {
  model: string;
  ki: string;
  state: 'loading' | 'ready' | 'unloading';
  /** Since when it is in that state. */
  sinceMs: number;
}

/** A Ki that can hold models. */
export interface PlanKi {
  id: string;
  /** How many models it holds at once. */
  modelSlots: number;
  /** The deployed models it could hold (its plug-ins load their type and it fits their requirements). */
  fits: readonly string[];
}

export interface PlanOptions {
  nowMs: number;
  /** A replica loaded more recently than this is not moved to another model (it has not paid for its load yet). */
  minResidencyMs: number;
  /**
   * How far a model's share of replicas may drift from its share of demand, relative to that
   * share, before replicas move between models (hysteresis). @defaultValue 0.2
   */
  tolerance?: number;
  /** Loads plus unloads in one round, at most; the next round goes on. */
  maxMovesPerRound: number;
}

export interface PlanMove {
  model: string;
  ki: string;
}

/** What to do this round; `targets` is the replica count each model is moved toward. */
export interface ReplicaPlan {
  load: PlanMove[];
  unload: PlanMove[];
  targets: Map<string, number>;
}

/** The live replicas (loading or ready) of each model, on Kis that can still hold models. */
function liveByModel(replicas: readonly PlanReplica[], kis: ReadonlyMap<string, PlanKi>): Map<string, PlanReplica[]> {
  const out = new Map<string, PlanReplica[]>();
  for (const r of replicas) {
    if (r.state === 'unloading' || !kis.has(r.ki)) continue;
    const list = out.get(r.model);
    if (list) list.push(r);
    else out.set(r.model, [r]);
  }
  return out;
}

/**
 * Decides which Kis load and unload which models, from the deployed models, their demand and
 * where they are resident now. Pure: the leader feeds it heartbeats and the store, so a new
 * leader decides as the old one would.
 *
 * 1. A model no longer deployed is unloaded everywhere.
 * 2. Each model's target comes from {@link replicaTargets}: `min..max`, the rest by demand share.
 * 3. A model short of its target loads into free model slots first (this costs no other model
 *    anything, so it is always done).
 * 4. A model still short takes a slot from a model over its target only when both are out of
 *    tolerance (its share of replicas below its demand share by more than `tolerance`, or below
 *    `min`) and the replica taken has been resident for `minResidencyMs`: demand that moves a
 *    little does not move replicas back and forth.
 * 5. A model above `max` unloads its newest replicas.
 */
export function planReplicas(models: readonly PlanModel[], replicas: readonly PlanReplica[], kiList: readonly PlanKi[], o: PlanOptions): ReplicaPlan {
  const tolerance = o.tolerance ?? 0.2;
  const kis = new Map(kiList.map((k) => [k.id, k]));
  const deployed = new Map(models.map((m) => [m.name, m]));
  const load: PlanMove[] = [];
  const unload: PlanMove[] = [];
  const moves = () => load.length + unload.length;

  // What each Ki holds once this round's moves are done: unloads free a slot at once (the Ki runs them first).
  const held = new Map<string, Set<string>>(kiList.map((k) => [k.id, new Set<string>()]));
  for (const r of replicas) if (r.state !== 'unloading') held.get(r.ki)?.add(r.model);
  const doUnload = (model: string, ki: string) => { unload.push({ model, ki }); held.get(ki)?.delete(model); };
  const doLoad = (model: string, ki: string) => { load.push({ model, ki }); held.get(ki)?.add(model); };

  // 1. Gone models: unloaded whatever the move budget (they hold slots nobody may use).
  for (const r of replicas) if (r.state !== 'unloading' && !deployed.has(r.model) && kis.has(r.ki)) doUnload(r.model, r.ki);

  // 2. Targets.
  const slots = kiList.reduce((s, k) => s + Math.max(0, k.modelSlots), 0);
  const fitting = (name: string) => kiList.filter((k) => k.modelSlots > 0 && k.fits.includes(name)).length;
  const targets = replicaTargets(models.map((m) => ({ name: m.name, min: m.min, max: m.max, demand: m.demand, fitting: fitting(m.name) })), slots);
  const live = liveByModel(replicas, kis);
  const count = new Map(models.map((m) => [m.name, live.get(m.name)?.length ?? 0]));
  const totalDemand = models.reduce((s, m) => s + Math.max(0, m.demand), 0);
  const totalReplicas = () => [...count.values()].reduce((a, b) => a + b, 0);
  const demandShare = (m: PlanModel) => (totalDemand > 0 ? Math.max(0, m.demand) / totalDemand : 0);
  const replicaShare = (name: string) => { const t = totalReplicas(); return t > 0 ? count.get(name)! / t : 0; };
  const target = (name: string) => targets.get(name) ?? 0;

  /** Short of `min`, or short of its target with a replica share out of tolerance. */
  const needsSlot = (m: PlanModel) => {
    const c = count.get(m.name)!;
    if (c >= target(m.name)) return false;
    return c < m.min || replicaShare(m.name) < demandShare(m) * (1 - tolerance);
  };
  /** Above its target with a replica share out of tolerance (or with no demand at all while above `min`). */
  const canGive = (m: PlanModel) => {
    const c = count.get(m.name)!;
    if (c <= target(m.name) || c <= m.min) return false;
    return totalDemand === 0 || m.demand <= 0 || replicaShare(m.name) > demandShare(m) * (1 + tolerance);
  };
  const freeSlot = (k: PlanKi) => held.get(k.id)!.size < k.modelSlots;

  // Models furthest below their target first (those below min before the rest).
  const byNeed = () => [...models].sort((a, b) => (count.get(a.name)! < a.min ? 0 : 1) - (count.get(b.name)! < b.min ? 0 : 1)
    || (target(b.name) - count.get(b.name)!) - (target(a.name) - count.get(a.name)!) || a.name.localeCompare(b.name));

  // 3. Free slots.
  for (let progress = true; progress && moves() < o.maxMovesPerRound;) {
    progress = false;
    for (const m of byNeed()) {
      if (count.get(m.name)! >= target(m.name) || moves() >= o.maxMovesPerRound) continue;
      const ki = kiList.filter((k) => k.fits.includes(m.name) && !held.get(k.id)!.has(m.name) && freeSlot(k))
        .sort((a, b) => held.get(a.id)!.size - held.get(b.id)!.size || a.id.localeCompare(b.id))[0];
      if (!ki) continue;
      doLoad(m.name, ki.id);
      count.set(m.name, count.get(m.name)! + 1);
      progress = true;
    }
  }

  // 4. Slots taken from models over their target, both out of tolerance, the replica old enough.
  for (let progress = true; progress && moves() + 2 <= o.maxMovesPerRound;) {
    progress = false;
    for (const m of byNeed()) {
      if (!needsSlot(m) || moves() + 2 > o.maxMovesPerRound) continue;
      const donor = models.filter((d) => d.name !== m.name && canGive(d)).flatMap((d) => live.get(d.name) ?? [])
        .filter((r) => r.state === 'ready' && o.nowMs - r.sinceMs >= o.minResidencyMs && held.get(r.ki)!.has(r.model)
          && !held.get(r.ki)!.has(m.name) && kis.get(r.ki)!.fits.includes(m.name))
        // The donor most over its share first, then its oldest replica.
        .sort((a, b) => (replicaShare(b.model) - demandShare(deployed.get(b.model)!)) - (replicaShare(a.model) - demandShare(deployed.get(a.model)!)) || a.sinceMs - b.sinceMs)[0];
      if (!donor) continue;
      doUnload(donor.model, donor.ki);
      count.set(donor.model, count.get(donor.model)! - 1);
      doLoad(m.name, donor.ki);
      count.set(m.name, count.get(m.name)! + 1);
      progress = true;
    }
  }

  // 5. Above max: the newest replicas go (the oldest have proved themselves warm).
  for (const m of models) {
    const extra = count.get(m.name)! - m.max;
    if (extra <= 0) continue;
    const newest = (live.get(m.name) ?? []).filter((r) => held.get(r.ki)!.has(m.name)).sort((a, b) => b.sinceMs - a.sinceMs).slice(0, extra);
    for (const r of newest) {
      doUnload(m.name, r.ki);
      count.set(m.name, count.get(m.name)! - 1);
    }
  }
  return { load, unload, targets };
}
