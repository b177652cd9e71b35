import { strict as assert } from 'node:assert';
import type { HeldTask } from '../../../src/an/in-flight';
import { ReplicaVotes } from '../../../src/an/replica-votes';
import { VoteTally } from '../../../src/an/vote-tally';
import { Registry } from 'prom-client';
import { createMetrics } from '../../../src/observability';
import { silentLogger } from '../../../src/observability/logger';
import { AN_DEFAULTS, fakeCommands, heldOnPool, heldTask, kiHeartbeat, spec } from './parts-fixtures';

/** Votes over a pool of three Kis, a task placed on all three, and a reputation store that records. */
function threeReplicas(quarantineOnMinority: string[] = [], policy = { minorityPenalty: AN_DEFAULTS.minorityPenalty, quarantineAt: AN_DEFAULTS.quarantineAt }) {
  const { pool, held } = heldOnPool(['ki-1', 'ki-2', 'ki-3'].map((id) => kiHeartbeat(id, { slots: { total: 1, busy: 0 } })));
  const recorded: { majority: string[]; minority: string[]; penalty: number; floor: number }[] = [];
  let quarantined = new Set<string>();
  const reputation = {
    record: (majority: string[], minority: string[], penalty: number, floor: number) => {
      recorded.push({ majority, minority, penalty, floor });
      const hit = minority.filter((k) => quarantineOnMinority.includes(k));
      quarantined = new Set([...quarantined, ...hit]);
      return Promise.resolve(hit);
    },
    quarantined: () => Promise.resolve(quarantined),
  };
  const commands = fakeCommands();
  let wakes = 0;
  const metrics = createMetrics(new Registry(), 'an');
  const votes = new ReplicaVotes({ ...policy, pool, reputation, held, commands, log: silentLogger(), metrics, wake: () => { wakes++; } });
  const t: HeldTask = heldTask({ spec: spec({ redundancy: { replicas: 3, quorum: 2 } }), attempts: 1, tally: new VoteTally(3, 2) });
  for (let i = 0; i < 3; i++) t.runs.set(pool.reserve('echo')!, { gpus: [], reservation: null });
  held.add(t);
  return { votes, pool, t, recorded, commands, metrics, wakes: () => wakes };
}

/** The value of one series of a counter or gauge. */
async function seriesValue(metric: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }, labels: Record<string, string> = {}): Promise<number | undefined> {
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('ReplicaVotes: redundant replicas vote, and liars lose reputation', () => {
  it('decides nothing while the vote is open', async () => {
    const { votes, t } = threeReplicas();
    t.runs.delete('ki-1');
    assert.equal(await votes.settle(t, t.tally!.record('ki-1', true, 1)), undefined);
  });

  it('stores the agreed result, keeps checking the replica still out, and counts its late answer against it when it disagrees', async () => {
    const { votes, pool, t, recorded, wakes } = threeReplicas();
    t.runs.delete('ki-1');
    t.tally!.record('ki-1', true, { a: 1, b: 2 });
    t.runs.delete('ki-2');
    const decision = await votes.settle(t, t.tally!.record('ki-2', true, { b: 2, a: 1 }));
    assert.deepEqual(decision, { transition: 'succeed', outcome: { result: { a: 1, b: 2 }, error: null } });
    assert.equal(t.runs.size, 0);
    assert.equal(votes.verifyingCount, 1, 'ki-3 is still checked');
    assert.equal(pool.free, 0, 'its slot stays reserved until it answers');
    assert.deepEqual(recorded, [{ majority: ['ki-1', 'ki-2'], minority: [], penalty: AN_DEFAULTS.minorityPenalty, floor: AN_DEFAULTS.quarantineAt }]);
    votes.onLateAnswer({ taskId: t.spec.id, attempt: 1, ki: 'ki-3', ok: true, result: { a: 1, b: 3 } });
    assert.equal(pool.free, 1);
    assert.equal(votes.verifyingCount, 0);
    assert.equal(wakes(), 1);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(recorded[1], { majority: [], minority: ['ki-3'], penalty: AN_DEFAULTS.minorityPenalty, floor: AN_DEFAULTS.quarantineAt });
  });

  it('fails the task with NO_QUORUM once agreement is out of reach, cancelling the replicas still out', async () => {
    const { votes, t, commands } = threeReplicas();
    t.runs.delete('ki-1');
    t.tally!.record('ki-1', true, 1);
    t.runs.delete('ki-2');
    t.tally!.record('ki-2', true, 2);
    const decision = await votes.settle(t, t.tally!.forfeit('ki-3'));
    assert.equal(decision?.transition, 'fail');
    assert.equal(decision?.outcome.error?.code, 'NO_QUORUM');
    assert.deepEqual(commands.cancelled.map((c) => [c.ki, c.reason]), [['ki-3', 'vote decided']]);
  });

  it('quarantines a Ki in the minority whose reputation runs out: it takes no new work', async () => {
    const { votes, pool, t } = threeReplicas(['ki-3']);
    for (const [ki, result] of [['ki-3', 'lie'], ['ki-1', 'truth'], ['ki-2', 'truth']] as const) {
      t.runs.delete(ki);
      const decision = await votes.settle(t, t.tally!.record(ki, true, result));
      if (ki === 'ki-2') assert.equal(decision?.transition, 'succeed');
    }
    assert.equal(pool.capacity, 2, 'ki-3 no longer counts');
  });

  it('moves reputation by the configured an.minorityPenalty and quarantines at an.quarantineAt', async () => {
    const { votes, t, recorded } = threeReplicas([], { minorityPenalty: 7, quarantineAt: 3 });
    for (const [ki, result] of [['ki-3', 'lie'], ['ki-1', 'truth'], ['ki-2', 'truth']] as const) {
      t.runs.delete(ki);
      await votes.settle(t, t.tally!.record(ki, true, result));
    }
    assert.deepEqual(recorded, [{ majority: ['ki-1', 'ki-2'], minority: ['ki-3'], penalty: 7, floor: 3 }]);
  });

  it('forgets the late answers of a Ki that is gone', async () => {
    const { votes, pool, t } = threeReplicas();
    for (const ki of ['ki-1', 'ki-2']) { t.runs.delete(ki); await votes.settle(t, t.tally!.record(ki, true, 1)); }
    votes.forgetKi('ki-3');
    votes.onLateAnswer({ taskId: t.spec.id, attempt: 1, ki: 'ki-3', ok: true, result: 1 });
    assert.equal(pool.free, 0, 'nothing released for a Ki that is gone (the pool forgets it)');
  });

  it('counts a unanimous vote and every answer that agreed, then a late answer that did not', async () => {
    const { votes, t, metrics } = threeReplicas();
    t.runs.delete('ki-1');
    t.tally!.record('ki-1', true, 'x');
    t.runs.delete('ki-2');
    await votes.settle(t, t.tally!.record('ki-2', true, 'x'));
    assert.equal(await seriesValue(metrics.redundantTasks, { outcome: 'unanimous' }), 1);
    assert.equal(await seriesValue(metrics.replicaAnswers, { verdict: 'agreed' }), 2);
    votes.onLateAnswer({ taskId: t.spec.id, attempt: 1, ki: 'ki-3', ok: true, result: 'y' });
    assert.equal(await seriesValue(metrics.replicaAnswers, { verdict: 'disagreed' }), 1);
  });

  it('counts a vote without quorum, and a majority vote with its dissenter quarantined', async () => {
    const split = threeReplicas();
    for (const [ki, result] of [['ki-1', 1], ['ki-2', 2]] as const) {
      split.t.runs.delete(ki);
      split.t.tally!.record(ki, true, result);
    }
    await split.votes.settle(split.t, split.t.tally!.forfeit('ki-3'));
    assert.equal(await seriesValue(split.metrics.redundantTasks, { outcome: 'no_quorum' }), 1);

    const { votes, t, metrics } = threeReplicas(['ki-3']);
    for (const [ki, result] of [['ki-3', 'lie'], ['ki-1', 'truth'], ['ki-2', 'truth']] as const) {
      t.runs.delete(ki);
      await votes.settle(t, t.tally!.record(ki, true, result));
    }
    assert.equal(await seriesValue(metrics.redundantTasks, { outcome: 'majority' }), 1);
    assert.deepEqual([await seriesValue(metrics.replicaAnswers, { verdict: 'agreed' }), await seriesValue(metrics.replicaAnswers, { verdict: 'disagreed' })], [2, 1]);
    assert.equal(await seriesValue(metrics.kiQuarantines), 1);
    assert.equal(await seriesValue(metrics.kisQuarantined), 1);
  });
});
