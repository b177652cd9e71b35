import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import type { Member } from '../../../src/cluster';
import type { Heartbeat } from '../../../src/cluster/membership';
import { silentLogger } from '../../../src/observability/logger';
import { createMetrics } from '../../../src/observability/metrics';
import { ModelKeeper } from '../../../src/principal/model-keeper';
import { topologyNames, type MessageOf, type ModelState } from '../../../src/protocol';
import type { ModelRecord } from '../../../src/store';

const NOW = 10_000_000;
const CONFIG = {
  models: { reconcileIntervalMs: 1000, demandWindowMs: 10_000, backlogHorizonMs: 10_000, lookbackMs: 60_000, minResidencyMs: 30_000, tolerancePct: 20, maxMovesPerRound: 8 },
  cluster: { heartbeatMs: 300, suspectAfterMs: 1000, deadAfterMs: 2500, removeAfterMs: 60_000, resumeGraceMs: 5000, maxMembers: 10_000 },
};

const model = (name: string, min: number, max: number, gpus = 0): ModelRecord => ({
  name, type: 'llm', requirements: { gpus, gpuMemoryMiB: 0, labels: [] }, warm: { min, max }, config: { w: name }, createdBy: 'ops', createdAt: new Date(0), updatedAt: new Date(0),
});

function ki(id: string, models: Record<string, ModelState> = {}, extra: Partial<Heartbeat> = {}): Member {
  const heartbeat: Heartbeat = {
    v: 1, id, role: 'ki', group: 'g', status: 'alive', startedAtMs: 0, version: '0', load: 0, slots: { total: 1, busy: 0 }, gpus: [], types: ['generate'], labels: [],
    models: Object.entries(models).map(([name, state]) => ({ name, state, sinceMs: NOW - 60_000 })), modelTypes: ['llm'], modelSlots: 1, ...extra,
  };
  return { id, role: 'ki', status: 'alive', heartbeat, lastSeenMs: NOW, firstSeenMs: 0 };
}

/** A keeper over fixed models and members, recording the commands it sends. */
function keeperOf(models: ModelRecord[], members: () => Member[], leading = { term: 3 as number | null }) {
  const sent: MessageOf<'model.command'>[] = [];
  const keeper = new ModelKeeper({
    config: CONFIG, repo: { demand: () => Promise.resolve([]) }, catalog: { all: () => Promise.resolve(models) }, membership: { list: members },
    bus: { send: (_dest: unknown, _type: unknown, body: unknown) => { sent.push(body as MessageOf<'model.command'>); return Promise.resolve(); } } as never,
    names: topologyNames('t'), metrics: createMetrics(new Registry(), 'principal'), log: silentLogger(), now: () => NOW,
    leadership: { isLeader: () => leading.term !== null, term: leading.term ?? 0, leader: () => null, fence: () => (leading.term === null ? null : { holder: 'p1', term: leading.term }) },
  });
  return { keeper, sent };
}

describe('the leader\'s model keeper', () => {
  it('asks a fitting Ki to load a model below warm.min, under the leader\'s term', async () => {
    const members = [ki('cpu', {}, { modelTypes: ['vision'] }), ki('gpu')];
    const { keeper, sent } = keeperOf([model('llama', 1, 1)], () => members);
    await keeper.reconcile();
    assert.deepEqual(sent, [{ v: 1, ki: 'gpu', term: 3, load: [{ name: 'llama', type: 'llm', config: { w: 'llama' } }], unload: [] }]);
  });

  it('does not send a load again while the Ki has yet to report it', async () => {
    const { keeper, sent } = keeperOf([model('llama', 1, 1)], () => [ki('k1'), ki('k2')]);
    await keeper.reconcile();
    await keeper.reconcile();
    assert.equal(sent.length, 1);
  });

  it('decides from heartbeats alone: a new leader that hears the replica sends nothing', async () => {
    const { keeper, sent } = keeperOf([model('llama', 1, 1)], () => [ki('k1', { llama: 'ready' }), ki('k2')]);
    await keeper.reconcile();
    assert.deepEqual(sent, []);
  });

  it('unloads a model that is no longer deployed', async () => {
    const { keeper, sent } = keeperOf([], () => [ki('k1', { gone: 'ready' })]);
    await keeper.reconcile();
    assert.deepEqual(sent.map((c) => [c.ki, c.unload]), [['k1', ['gone']]]);
  });

  it('sends nothing while it does not lead, and skips Kis that drain', async () => {
    const leading = { term: null as number | null };
    const members = [ki('k1', {}, { state: 'draining' }), ki('k2')];
    const { keeper, sent } = keeperOf([model('llama', 2, 2)], () => members, leading);
    await keeper.reconcile();
    assert.equal(sent.length, 0);
    leading.term = 4;
    await keeper.reconcile();
    assert.deepEqual(sent.map((c) => [c.ki, c.term]), [['k2', 4]]);
  });

  it('places a model that needs a GPU only on a Ki with one', async () => {
    const gpu = { index: 0, uuid: 'u', name: 'H100', memoryMiB: 80_000, memoryUsedMiB: 0 };
    const { keeper, sent } = keeperOf([model('big', 1, 1, 1)], () => [ki('cpu'), ki('gpu', {}, { gpus: [gpu] })]);
    await keeper.reconcile();
    assert.deepEqual(sent.map((c) => c.ki), ['gpu']);
  });
});
