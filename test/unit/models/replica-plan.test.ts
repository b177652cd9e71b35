import { strict as assert } from 'node:assert';
import { demandOf, planReplicas, replicaTargets, type PlanKi, type PlanModel, type PlanReplica, type ReplicaPlan } from '../../../src/models';

const NOW = 1_000_000;
const OPTS = { nowMs: NOW, minResidencyMs: 30_000, tolerance: 0.2, maxMovesPerRound: 100 };
const kisOf = (n: number, fits: string[], modelSlots = 1): PlanKi[] => Array.from({ length: n }, (_, i) => ({ id: `ki-${i + 1}`, modelSlots, fits }));
const ready = (model: string, ki: string, ageMs = 60_000): PlanReplica => ({ model, ki, state: 'ready', sinceMs: NOW - ageMs });
const model = (name: string, min: number, max: number, demand = 0): PlanModel => ({ name, min, max, demand });
const moves = (list: ReplicaPlan['load']) => list.map((m) => `${m.model}@${m.ki}`).sort();

/** The replicas after a plan is carried out (a load is taken as done and ready at once). */
function apply(replicas: readonly PlanReplica[], plan: ReplicaPlan, nowMs: number): PlanReplica[] {
  const out = replicas.filter((r) => !plan.unload.some((u) => u.model === r.model && u.ki === r.ki));
  return [...out, ...plan.load.map((l): PlanReplica => ({ model: l.model, ki: l.ki, state: 'ready', sinceMs: nowMs }))];
}
const countOf = (replicas: readonly PlanReplica[], name: string) => replicas.filter((r) => r.model === name && r.state !== 'unloading').length;

describe('replica targets', () => {
  it('split the slots by demand share within each model\'s min and max', () => {
    assert.deepEqual([...replicaTargets([{ name: 'a', min: 1, max: 10, demand: 30, fitting: 10 }, { name: 'b', min: 1, max: 10, demand: 10, fitting: 10 }], 4)], [['a', 3], ['b', 1]]);
    assert.deepEqual([...replicaTargets([{ name: 'a', min: 0, max: 2, demand: 30, fitting: 10 }, { name: 'b', min: 0, max: 10, demand: 10, fitting: 10 }], 8)], [['a', 2], ['b', 2]]);
  });

  it('give every model its min, even without demand, and no more than the Kis that fit it', () => {
    assert.deepEqual([...replicaTargets([{ name: 'a', min: 2, max: 4, demand: 0, fitting: 10 }, { name: 'b', min: 3, max: 4, demand: 0, fitting: 1 }], 8)], [['a', 2], ['b', 1]]);
  });

  it('leave slots no demand claims unassigned', () => {
    assert.deepEqual([...replicaTargets([{ name: 'a', min: 0, max: 10, demand: 5, fitting: 10 }, { name: 'b', min: 0, max: 10, demand: 0, fitting: 10 }], 6)], [['a', 6], ['b', 0]]);
  });
});

describe('demand', () => {
  it('is the arrival rate plus the backlog over the horizon, weighed up when the oldest task waits past it', () => {
    assert.equal(demandOf({ arrived: 30, waiting: 0, oldestWaitMs: 0 }, 10_000, 5_000), 3);
    assert.equal(demandOf({ arrived: 30, waiting: 10, oldestWaitMs: 1_000 }, 10_000, 5_000), 5);
    assert.equal(demandOf({ arrived: 0, waiting: 10, oldestWaitMs: 20_000 }, 10_000, 5_000), 8);
  });
});

describe('the replica plan', () => {
  it('loads every model up to its min on Kis that fit it, spreading over the emptiest Kis', () => {
    const plan = planReplicas([model('a', 2, 2), model('b', 1, 1)], [], kisOf(3, ['a', 'b']), OPTS);
    assert.equal(plan.load.filter((l) => l.model === 'a').length, 2);
    assert.equal(plan.load.filter((l) => l.model === 'b').length, 1);
    assert.equal(new Set(plan.load.map((l) => l.ki)).size, 3, 'one model per Ki');
    assert.deepEqual(plan.unload, []);
  });

  it('loads only where a Ki fits the model', () => {
    const kis: PlanKi[] = [{ id: 'cpu', modelSlots: 1, fits: ['small'] }, { id: 'gpu', modelSlots: 1, fits: ['small', 'big'] }];
    const plan = planReplicas([model('big', 1, 1), model('small', 1, 1)], [], kis, OPTS);
    assert.deepEqual(moves(plan.load), ['big@gpu', 'small@cpu']);
  });

  it('does nothing once every model sits at its target', () => {
    const plan = planReplicas([model('a', 1, 3, 30), model('b', 1, 3, 10)], [ready('a', 'ki-1'), ready('a', 'ki-2'), ready('a', 'ki-3'), ready('b', 'ki-4')], kisOf(4, ['a', 'b']), OPTS);
    assert.deepEqual(plan, { load: [], unload: [], targets: plan.targets });
  });

  it('unloads everywhere a model that is no longer deployed, and does not count it', () => {
    const plan = planReplicas([model('a', 1, 1)], [ready('gone', 'ki-1'), ready('a', 'ki-2')], kisOf(2, ['a']), OPTS);
    assert.deepEqual(moves(plan.unload), ['gone@ki-1']);
    assert.deepEqual(plan.load, []);
  });

  it('unloads the newest replicas of a model above its max', () => {
    const plan = planReplicas([model('a', 0, 1)], [ready('a', 'ki-1', 90_000), ready('a', 'ki-2', 40_000)], kisOf(2, ['a']), OPTS);
    assert.deepEqual(moves(plan.unload), ['a@ki-2']);
  });

  it('moves replicas from a model over its demand share to one under it, until 3:1 demand has 3:1 replicas', () => {
    const models = [model('a', 1, 4, 30), model('b', 1, 4, 10)];
    let replicas = [ready('a', 'ki-1'), ready('b', 'ki-2'), ready('b', 'ki-3'), ready('b', 'ki-4')];
    const plan = planReplicas(models, replicas, kisOf(4, ['a', 'b']), OPTS);
    assert.equal(plan.load.length, 2);
    assert.ok(plan.load.every((l) => l.model === 'a'));
    assert.ok(plan.unload.every((u) => u.model === 'b'));
    replicas = apply(replicas, plan, NOW);
    assert.equal(countOf(replicas, 'a'), 3);
    assert.equal(countOf(replicas, 'b'), 1);
    // The next round leaves it there.
    const again = planReplicas(models, replicas, kisOf(4, ['a', 'b']), { ...OPTS, nowMs: NOW + 60_000 });
    assert.deepEqual([again.load, again.unload], [[], []]);
  });

  it('does not move a replica younger than the minimum residency', () => {
    const plan = planReplicas([model('a', 1, 4, 30), model('b', 1, 4, 10)], [ready('a', 'ki-1'), ready('b', 'ki-2', 5_000), ready('b', 'ki-3', 5_000), ready('b', 'ki-4', 50_000)], kisOf(4, ['a', 'b']), OPTS);
    assert.deepEqual(moves(plan.unload), ['b@ki-4']);
    assert.deepEqual(moves(plan.load), ['a@ki-4']);
  });

  it('never takes a model below its min, nor moves a replica that is still loading', () => {
    const loading: PlanReplica = { model: 'b', ki: 'ki-2', state: 'loading', sinceMs: NOW - 100_000 };
    const plan = planReplicas([model('a', 0, 2, 100), model('b', 1, 2, 1)], [ready('b', 'ki-1'), loading], kisOf(2, ['a', 'b']), OPTS);
    assert.ok(!plan.unload.some((u) => u.ki === 'ki-2'));
    assert.ok(countOf(apply([ready('b', 'ki-1'), loading], plan, NOW), 'b') >= 1);
  });

  it('leaves replicas alone while shares stay within the tolerance (hysteresis)', () => {
    // 3:2 replicas for 50:50 demand: b's share 0.4 is not below 0.5 × 0.8, so nothing moves
    // (one replica more for b would only put a as far off on the other side).
    const kis = kisOf(5, ['a', 'b']);
    const replicas = [ready('a', 'ki-1'), ready('a', 'ki-2'), ready('a', 'ki-3'), ready('b', 'ki-4'), ready('b', 'ki-5')];
    const flipped = planReplicas([model('a', 1, 5, 50), model('b', 1, 5, 50)], replicas, kis, OPTS);
    assert.deepEqual([flipped.load, flipped.unload], [[], []]);
    const far = planReplicas([model('a', 1, 5, 20), model('b', 1, 5, 80)], replicas, kis, OPTS);
    assert.ok(far.load.length > 0 && far.load.every((l) => l.model === 'b'));
  });

  it('serves every model at least 80 % of its demand share from any start, and then stays put, over many random cases', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let run = 0; run < 200; run++) {
      const n = 2 + Math.floor(rand() * 3);
      const models = Array.from({ length: n }, (_, i) => model(`m${i}`, 0, 20, 1 + Math.floor(rand() * 20)));
      const kis = kisOf(8 + Math.floor(rand() * 12), models.map((m) => m.name));
      let replicas: PlanReplica[] = kis.map((k, i) => ready(models[i % n]!.name, k.id));
      let now = NOW;
      for (let round = 0; round < 20; round++, now += 60_000) replicas = apply(replicas, planReplicas(models, replicas, kis, { ...OPTS, nowMs: now }), now);
      const total = replicas.length;
      const demand = models.reduce((s, m) => s + m.demand, 0);
      for (const m of models) {
        const share = countOf(replicas, m.name) / total;
        const want = m.demand / demand;
        // Under-served is what the rule forbids (a model with replicas to spare serves all its demand).
        // One replica is the granularity: at least 80 % of the share, or within one replica of it.
        assert.ok(share >= Math.min(0.8 * want, want - 1 / total) - 1e-9, `run ${run}: ${m.name} has ${share.toFixed(3)} of replicas for ${want.toFixed(3)} of demand`);
      }
      const settled = planReplicas(models, replicas, kis, { ...OPTS, nowMs: now });
      assert.deepEqual([settled.load, settled.unload], [[], []], `run ${run} keeps moving`);
    }
  });

  it('keeps to the moves budget of a round', () => {
    const plan = planReplicas([model('a', 5, 5)], [], kisOf(5, ['a']), { ...OPTS, maxMovesPerRound: 2 });
    assert.equal(plan.load.length, 2);
  });
});
