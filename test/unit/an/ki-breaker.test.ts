import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { KiBreaker } from '../../../src/an/ki-breaker';
import { heldOutKeys } from '../../../src/an/held-out';
import { KiPool } from '../../../src/an/ki-pool';
import type { Heartbeat } from '../../../src/cluster/membership';
import { createMetrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import type { NodeControl } from '../../../src/store/node-control-repository';

function control(nodeId: string, over: Partial<NodeControl> = {}): NodeControl {
  return { nodeId, state: 'active', reason: null, changedBy: null, changedAt: new Date(), benchedUntil: null, benchReason: null, benched: false, benchCount: 0, ...over };
}

/** A breaker over a fake store that records what it was asked. */
function breaker(failures = 3, keyOf: (ki: string) => string = (ki) => ki) {
  const calls: { benched: [string, string, number, number][]; reset: string[]; refreshed: number } = { benched: [], reset: [], refreshed: 0 };
  const metrics = createMetrics(new Registry(), 'an');
  const b = new KiBreaker({
    failures, backoffMs: 1000, maxBackoffMs: 8000, keyOf, log: silentLogger(), metrics,
    onBenched: () => { calls.refreshed++; },
    controls: {
      bench: (id, reason, base, cap) => { calls.benched.push([id, reason, base, cap]); return Promise.resolve(control(id, { benched: true, benchCount: 1, benchReason: reason })); },
      resetBench: (id) => { calls.reset.push(id); return Promise.resolve(true); },
    },
  });
  return { b, calls, metrics };
}

describe('KiBreaker benches a Ki whose attempts keep timing out or crashing', () => {
  it('benches after the configured failures in a row, under the stable id, with the codes as reason', async () => {
    const { b, calls, metrics } = breaker(3, (ki) => `stable-${ki}`);
    await b.record('ki1', 'TIMEOUT');
    await b.record('ki1', 'EXECUTOR_ERROR');
    assert.equal(calls.benched.length, 0, 'two failures bench nothing');
    await b.record('ki1', 'TIMEOUT');
    assert.deepEqual(calls.benched, [['stable-ki1', '3 attempts in a row ended in TIMEOUT, EXECUTOR_ERROR, TIMEOUT', 1000, 8000]]);
    assert.equal(calls.refreshed, 1, 'placement learns of the bench at once');
    assert.equal((await metrics.kiBenches.get()).values[0]?.value, 1);
  });

  it('starts counting again after a success, and ignores failures that are the task\'s own', async () => {
    const { b, calls } = breaker(2);
    await b.record('ki1', 'TIMEOUT');
    await b.record('ki1', null);
    await b.record('ki1', 'TIMEOUT');
    await b.record('ki1', 'EXEC_EXIT');
    await b.record('ki1', 'TASK_FAILED');
    await b.record('ki1', 'CANCELLED');
    assert.equal(calls.benched.length, 0);
    await b.record('ki1', 'KI_LOST');
    assert.equal(calls.benched.length, 1, 'TIMEOUT then KI_LOST, in a row once the task failures are skipped');
  });

  it('counts each Ki on its own', async () => {
    const { b, calls } = breaker(2);
    await b.record('ki1', 'TIMEOUT');
    await b.record('ki2', 'TIMEOUT');
    await b.record('ki1', 'TIMEOUT');
    assert.deepEqual(calls.benched.map((c) => c[0]), ['ki1']);
  });

  it('resets the doubling in the store on the first success of a Ki benched before', async () => {
    const { b, calls } = breaker(2);
    b.noteControls([control('ki1', { benchCount: 2 }), control('ki2')]);
    await b.record('ki2', null);
    await b.record('ki1', null);
    await b.record('ki1', null);
    assert.deepEqual(calls.reset, ['ki1'], 'once, and only for the Ki benched before');
  });

  it('does nothing with 0 failures configured', async () => {
    const { b, calls } = breaker(0);
    for (let i = 0; i < 5; i++) await b.record('ki1', 'TIMEOUT');
    assert.equal(calls.benched.length, 0);
  });
});

describe('placement skips held-out Kis by stable id', () => {
  const hb = (id: string, stableId?: string): Heartbeat => ({
    v: 1, id, role: 'ki', group: 'g1', status: 'alive', startedAtMs: 0, version: '0', load: 0, slots: { total: 1, busy: 0 }, gpus: [], types: ['echo'], labels: [],
    ...(stableId ? { stableId } : {}),
  });

  it('holds out cordoned, draining and benched nodes, and counts them by reason', () => {
    const held = heldOutKeys([control('a', { state: 'cordoned' }), control('b', { state: 'draining' }), control('c', { benched: true }), control('d', { benchCount: 3 })]);
    assert.deepEqual([...held.keys].sort(), ['a', 'b', 'c']);
    assert.deepEqual(held.byReason, { cordoned: 1, draining: 1, benched: 1 });
  });

  it('places nothing on a Ki whose stable id is held out, and on it again once it is not', () => {
    const pool = new KiPool('least-loaded');
    pool.upsert(hb('ki-pod-x7', 'ki-3'));
    assert.equal(pool.keyOf('ki-pod-x7'), 'ki-3');
    pool.setHeldOut(new Set(['ki-3']));
    assert.equal(pool.reserve('echo'), undefined);
    assert.equal(pool.capacity, 0, 'a held-out Ki adds no capacity');
    pool.setHeldOut(new Set());
    assert.equal(pool.reserve('echo'), 'ki-pod-x7');
  });
});
