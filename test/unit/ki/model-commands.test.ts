import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { BUILTIN_EXECUTORS } from '../../../src/ki/executors/builtins';
import type { Executor } from '../../../src/ki/executors/types';
import { ModelHost } from '../../../src/ki/model-host';
import { createMetrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import { assignRoute, kiInbox, modelCommandRoute } from '../../../src/protocol/destinations';
import { topologyNames } from '../../../src/protocol/names';
import type { MessageBus } from '../../../src/transport/message-bus';
import { inProcessBus } from '../../helpers/in-process-bus';
import { startKiOnBus, until, type KiOnBus } from './ki-on-bus';

/**
 * A Ki obeys the leader's model commands under the highest term it has seen, reports its models
 * in heartbeats, and hands a task naming a model the loaded handle. One Ki on the in-process bus;
 * the test speaks for the leader and the An.
 */
describe('Ki: model commands and tasks on a model', () => {
  const names = topologyNames('kimodels');
  const loads: string[] = [];
  const llama = { name: 'llama', type: 'llm', config: { size: 8 } };
  let k: KiOnBus;
  let leader: MessageBus;

  before(async () => {
    const metrics = createMetrics(new Registry(), 'ki');
    const models = new ModelHost({ hooks: new Map([['llm', { load: (m) => { loads.push(m.name); return { name: m.name, size: m.config['size'] }; } }]]), slots: 2, gpus: () => [], log: silentLogger(), metrics });
    const generate: Executor = (_payload, ctx) => Promise.resolve({ model: ctx.model });
    k = await startKiOnBus(names, { KI_MODEL_SLOTS: '2' }, { metrics, executors: { ...BUILTIN_EXECUTORS, generate }, models });
    leader = inProcessBus(k.transport, 'p1', 'principal');
  });

  after(() => k?.stop());

  const command = (term: number, load: typeof llama[], unload: string[] = [], target = 'ki1') => leader.send(modelCommandRoute(names, target), 'model.command', { v: 1, ki: target, term, load, unload });
  const heartbeatModels = () => (k.ki.describe().models ?? []).map((m) => `${m.name}:${m.state}`);

  it('loads a model the leader asks for and reports it ready in its heartbeat, with the types it loads', async () => {
    await command(5, [llama]);
    await until(() => heartbeatModels().includes('llama:ready'), 'llama ready');
    assert.deepEqual(k.ki.describe().modelTypes, ['llm']);
    assert.equal(k.ki.describe().modelSlots, 2);
    assert.deepEqual(loads, ['llama']);
  });

  it('ignores a command for another Ki and one under a lower term', async () => {
    await command(6, [], ['llama'], 'ki2');
    await command(4, [], ['llama']);
    await leader.send(assignRoute(names, 'ki1'), 'node.assign', { v: 1, nodeId: 'ki1', group: 'an1', term: 6 });
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(heartbeatModels(), ['llama:ready']);
  });

  it('gives a task naming the model the loaded handle, without loading it again', async () => {
    const task = { id: randomUUID(), type: 'generate', payload: {}, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, timeoutMs: 10_000, maxAttempts: 3, owner: 'alice', createdAtMs: Date.now(), model: 'llama' };
    await k.an.send(kiInbox(names, 'ki1'), 'task.assign', { v: 1, an: 'an1', items: [{ task, attempt: 1, gpus: [], model: llama }] });
    await until(() => k.results.some((r) => r.taskId === task.id), 'the task reports');
    const r = k.results.find((x) => x.taskId === task.id)!;
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.deepEqual(r.result, { model: { name: 'llama', size: 8 } });
    assert.deepEqual(loads, ['llama']);
  });

  it('fails a task naming a model its assignment does not describe, retryably', async () => {
    const task = { id: randomUUID(), type: 'generate', payload: {}, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] }, timeoutMs: 10_000, maxAttempts: 3, owner: 'alice', createdAtMs: Date.now(), model: 'mistral' };
    await k.an.send(kiInbox(names, 'ki1'), 'task.assign', { v: 1, an: 'an1', items: [{ task, attempt: 1, gpus: [] }] });
    await until(() => k.results.some((r) => r.taskId === task.id), 'the task reports');
    const r = k.results.find((x) => x.taskId === task.id)!;
    assert.deepEqual([r.ok, r.error?.code, r.error?.retryable], [false, 'MODEL_UNAVAILABLE', true]);
  });

  it('unloads at the leader\'s word', async () => {
    await command(6, [], ['llama']);
    await until(() => heartbeatModels().length === 0, 'llama gone');
  });
});
