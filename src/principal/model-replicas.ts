import type { Member } from '../cluster';
import type { ModelState } from '../protocol';

/** One model resident on one Ki, as that Ki's latest heartbeat reports it. */
export interface ModelReplica {
  model: string;
  ki: string;
  state: ModelState;
  sinceMs: number;
}

/**
 * The resident models of the live Kis (alive or suspect: a suspect Ki may only be late), from
 * their heartbeats. The heartbeats are the source of truth, so a new leader sees the same
 * replicas as the one before it.
 */
export function replicasOf(members: readonly Member[]): ModelReplica[] {
  const out: ModelReplica[] = [];
  for (const m of members) {
    if (m.role !== 'ki' || (m.status !== 'alive' && m.status !== 'suspect')) continue;
    for (const r of m.heartbeat.models ?? []) out.push({ model: r.name, ki: m.id, state: r.state, sinceMs: r.sinceMs });
  }
  return out;
}

/** Replicas grouped by model. */
export function replicasByModel(replicas: readonly ModelReplica[]): Map<string, ModelReplica[]> {
  const out = new Map<string, ModelReplica[]>();
  for (const r of replicas) {
    const list = out.get(r.model);
    if (list) list.push(r);
    else out.set(r.model, [r]);
  }
  return out;
}
