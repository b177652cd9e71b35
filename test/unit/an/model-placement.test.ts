import { strict as assert } from 'node:assert';
import { KiPool } from '../../../src/an/ki-pool';
import { modelRank } from '../../../src/an/model-placement';
import type { Heartbeat } from '../../../src/cluster/membership';
import type { ModelState } from '../../../src/protocol';

const LLAMA = { name: 'llama', type: 'llm' };
const spec = { type: 'generate', requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, model: 'llama' };

function hb(id: string, models: Record<string, ModelState> = {}, modelSlots = 1, total = 1): Heartbeat {
  return {
    v: 1, id, role: 'ki', group: 'g1', status: 'alive', startedAtMs: 0, version: '0.1.0', load: 0, slots: { total, busy: 0 }, gpus: [], types: ['generate'], labels: [],
    models: Object.entries(models).map(([name, state]) => ({ name, state, sinceMs: 0 })), modelTypes: ['llm'], modelSlots,
  };
}

function poolOf(...kis: Heartbeat[]): KiPool {
  const p = new KiPool('least-loaded', () => 1000);
  for (const k of kis) p.upsert(k);
  return p;
}

const placedOn = (p: KiPool) => { const r = p.place(spec, new Set(), LLAMA); return r.kind === 'placed' ? r.ki : r.kind; };

describe('placement of a task that names a model', () => {
  it('ranks ready before loading before a free model slot before evicting an idle model', () => {
    const k = (models: Record<string, ModelState>, slots = 1) => ({ models: new Map(Object.entries(models)), modelTypes: ['llm'], modelSlots: slots });
    assert.equal(modelRank(k({ llama: 'ready' }), LLAMA, true), 0);
    assert.equal(modelRank(k({ llama: 'loading' }), LLAMA, true), 1);
    assert.equal(modelRank(k({}), LLAMA, true), 2);
    assert.equal(modelRank(k({ other: 'ready' }, 2), LLAMA, true), 2);
    assert.equal(modelRank(k({ other: 'unloading' }), LLAMA, true), 2, 'a model on its way out frees its slot');
    assert.equal(modelRank(k({ other: 'ready' }), LLAMA, false), 3);
    assert.equal(modelRank(k({ other: 'ready' }), LLAMA, true), undefined, 'no eviction while another Ki holds the model');
    assert.equal(modelRank({ models: new Map(), modelTypes: ['vision'], modelSlots: 1 }, LLAMA, false), undefined, 'a Ki that cannot load the type');
  });

  it('goes to the Ki where the model is ready, even when another is emptier', () => {
    assert.equal(placedOn(poolOf(hb('empty', {}, 1, 4), hb('warm', { llama: 'ready' }, 1, 1))), 'warm');
  });

  it('starts a cold load on a free model slot once the ready Ki is busy', () => {
    const p = poolOf(hb('warm', { llama: 'ready' }), hb('empty'), hb('other', { mistral: 'ready' }));
    assert.equal(placedOn(p), 'warm');
    assert.equal(placedOn(p), 'empty', 'the ready Ki has no free slot now');
    assert.equal(placedOn(p), 'not-now', 'mistral is not evicted while llama has replicas: the task waits for one');
  });

  it('counts a cold start it placed as loading, so the next task waits for that load instead of starting another', () => {
    const p = poolOf(hb('a', {}, 1, 2), hb('b', {}, 1, 2));
    const first = placedOn(p);
    assert.equal(placedOn(p), first);
  });

  it('evicts an idle model only when no Ki of the group holds the task\'s model', () => {
    assert.equal(placedOn(poolOf(hb('other', { mistral: 'ready' }))), 'other');
  });

  it('fails a task whose model type no Ki loads, saying so', () => {
    const p = poolOf({ ...hb('cpu'), modelTypes: ['vision'] });
    const r = p.place(spec, new Set(), LLAMA);
    assert.equal(r.kind, 'never');
    assert.match(r.kind === 'never' ? r.reason : '', /loads models of type "llm"/);
  });

  it('places a task of the model on a Ki whose heartbeat just reported it ready', () => {
    const p = poolOf(hb('a', { llama: 'loading' }), hb('b', {}));
    p.upsert(hb('b', { llama: 'ready' }));
    assert.equal(placedOn(p), 'b');
  });
});
