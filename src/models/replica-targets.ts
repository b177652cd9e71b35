/**
 * How many Kis each model should be loaded on, from its demand: pure arithmetic, no I/O.
 *
 * Each model gets its share of the model slots in proportion to its demand (IDunno's rule: when
 * every replica is busy, a model's served rate follows its replicas, so replicas in proportion
 * to demand keep each model's served share near its demand share), rounded by largest remainder
 * and kept within its `min..max`; slots that no model's demand claims stay with the models that
 * hold them.
 */

/** One model's bounds and demand, as the target arithmetic needs them. */
export interface TargetInput {
  name: string;
  min: number;
  max: number;
  /** Requests per second it should serve (arrivals, plus its backlog spread over a horizon). */
  demand: number;
  /** How many Kis could hold it at all: no target passes it. */
  fitting: number;
}

/**
 * The number of replicas each model should have, given `slots` model slots in all. Every
 * model gets at least `min(min, fitting)`; the slots left go by demand share, largest
 * remainder first, each model capped at `min(max, fitting)`.
 */
export function replicaTargets(models: readonly TargetInput[], slots: number): Map<string, number> {
  const cap = (m: TargetInput) => Math.max(0, Math.min(m.max, m.fitting));
  const floor = (m: TargetInput) => Math.min(m.min, cap(m));
  const out = new Map(models.map((m) => [m.name, floor(m)]));
  const totalDemand = models.reduce((s, m) => s + Math.max(0, m.demand), 0);
  if (totalDemand <= 0) return out;
  // Ideal replicas by demand share of every slot; the floors already count toward them.
  const ideal = new Map(models.map((m) => [m.name, (slots * Math.max(0, m.demand)) / totalDemand]));
  let left = slots - [...out.values()].reduce((a, b) => a + b, 0);
  while (left > 0) {
    let pick: TargetInput | undefined;
    let pickGap = 0;
    for (const m of models) {
      const have = out.get(m.name)!;
      if (m.demand <= 0 || have >= cap(m)) continue;
      const gap = ideal.get(m.name)! - have;
      // Only a model still short of its share, the one shortest of it first (ties: by name, stable).
      if (gap > 0.5 - 1e-9 && (!pick || gap > pickGap + 1e-9)) { pick = m; pickGap = gap; }
    }
    if (!pick) break;
    out.set(pick.name, out.get(pick.name)! + 1);
    left--;
  }
  return out;
}
