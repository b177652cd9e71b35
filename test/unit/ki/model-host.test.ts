import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { TaskExecutionError } from '../../../src/ki/executors/types';
import { modelHooksOf, type ModelHooks } from '../../../src/ki/executors/model-hooks';
import { ModelHost } from '../../../src/ki/model-host';
import { silentLogger } from '../../../src/observability/logger';
import { createMetrics } from '../../../src/observability/metrics';
import { ConfigError } from '../../../src/errors';
import type { ModelDescriptor } from '../../../src/protocol';

const llama: ModelDescriptor = { name: 'llama', type: 'llm', config: { weights: '/w/llama' } };
const mistral: ModelDescriptor = { name: 'mistral', type: 'llm', config: {} };

/** Hooks that record their calls; a load resolves when the test says (`release`), or at once. */
function recordingHooks(opts: { manual?: boolean; fail?: string } = {}) {
  const calls: string[] = [];
  const pending: (() => void)[] = [];
  const hooks: ModelHooks = {
    load: async (m) => {
      calls.push(`load ${m.name}`);
      if (opts.manual) await new Promise<void>((r) => pending.push(r));
      if (opts.fail === m.name) throw new Error('out of memory');
      return { name: m.name, id: calls.length };
    },
    unload: (h) => { calls.push(`unload ${(h as { name: string }).name}`); },
  };
  return { hooks, calls, release: () => pending.splice(0).forEach((r) => r()) };
}

function hostOf(hooks: ModelHooks, slots = 1) {
  const metrics = createMetrics(new Registry(), 'ki');
  const changes: string[] = [];
  const host = new ModelHost({ hooks: new Map([['llm', hooks]]), slots, gpus: () => [], log: silentLogger(), metrics, onChange: () => changes.push(host.describe().map((m) => `${m.name}:${m.state}`).join(',')) });
  return { host, metrics, changes };
}

const tick = () => new Promise((r) => setImmediate(r));
const coldStarts = async (m: ReturnType<typeof createMetrics>, model: string) => (await m.modelColdStarts.get()).values.find((v) => v.labels['model'] === model)?.value ?? 0;

describe('the models of a Ki', () => {
  it('loads a model once for the leader and hands every task the same handle, with no cold start', async () => {
    const { hooks, calls } = recordingHooks();
    const { host, metrics, changes } = hostOf(hooks);
    host.command([llama], []);
    host.command([llama], []);
    const a = await host.acquire(llama);
    const b = await host.acquire(llama);
    assert.equal(a.handle, b.handle);
    assert.deepEqual(calls, ['load llama']);
    assert.equal(await coldStarts(metrics, 'llama'), 0);
    assert.deepEqual(changes, ['llama:loading', 'llama:ready']);
    a.release(); b.release();
  });

  it('loads cold, counted, for a task naming a model it does not hold, and a second task waits for that same load', async () => {
    const { hooks, calls, release } = recordingHooks({ manual: true });
    const { host, metrics } = hostOf(hooks);
    const first = host.acquire(llama);
    const second = host.acquire(llama);
    await tick();
    assert.equal(host.stateOf('llama'), 'loading');
    release();
    assert.equal((await first).handle, (await second).handle);
    assert.deepEqual(calls, ['load llama']);
    assert.equal(await coldStarts(metrics, 'llama'), 1);
  });

  it('unloads a model only once the tasks using it have ended', async () => {
    const { hooks, calls } = recordingHooks();
    const { host } = hostOf(hooks);
    const lease = await host.acquire(llama);
    const unloaded = host.unload('llama');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(host.stateOf('llama'), 'unloading');
    assert.deepEqual(calls, ['load llama']);
    lease.release();
    await unloaded;
    assert.deepEqual(calls, ['load llama', 'unload llama']);
    assert.deepEqual(host.describe(), []);
  });

  it('makes room for a cold start by unloading the least recently used idle model', async () => {
    const { hooks, calls } = recordingHooks();
    const { host } = hostOf(hooks, 1);
    (await host.acquire(mistral)).release();
    (await host.acquire(llama)).release();
    assert.deepEqual(calls.slice(0, 2), ['load mistral', 'load llama']);
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(calls.includes('unload mistral'));
    assert.deepEqual(host.describe().map((m) => m.name), ['llama']);
  });

  it('refuses a cold start, retryably, when every model slot holds a model in use', async () => {
    const { hooks } = recordingHooks();
    const { host } = hostOf(hooks, 1);
    const busy = await host.acquire(mistral);
    await assert.rejects(host.acquire(llama), (err: unknown) => err instanceof TaskExecutionError && err.code === 'MODEL_UNAVAILABLE' && err.retryable);
    busy.release();
  });

  it('refuses a model type no plug-in loads, and reports a failed load without keeping the model', async () => {
    const { hooks } = recordingHooks({ fail: 'llama' });
    const { host, metrics } = hostOf(hooks);
    await assert.rejects(host.acquire({ name: 'v', type: 'vision', config: {} }), (err: unknown) => err instanceof TaskExecutionError && err.code === 'MODEL_UNAVAILABLE');
    await assert.rejects(host.acquire(llama), (err: unknown) => err instanceof TaskExecutionError && err.code === 'MODEL_LOAD_FAILED' && /out of memory/.test(err.message));
    assert.deepEqual(host.describe(), []);
    assert.equal((await metrics.modelLoadFailures.get()).values.find((v) => v.labels['model'] === 'llama')?.value, 1);
  });
});

describe('a plug-in\'s model hooks', () => {
  it('are read from `models`, at the top level or under default', () => {
    const load = () => ({});
    assert.deepEqual([...modelHooksOf({ models: { llm: { load } } }, 'p.js', silentLogger()).keys()], ['llm']);
    assert.deepEqual([...modelHooksOf({ default: { models: { llm: { load } } } }, 'p.js', silentLogger()).keys()], ['llm']);
    assert.equal(modelHooksOf({ echo: () => 1 }, 'p.js', silentLogger()).size, 0);
  });

  it('refuse an entry without a load function, or an unload that is not one, naming it', () => {
    assert.throws(() => modelHooksOf({ models: { llm: {} } }, 'p.js', silentLogger()), (err: unknown) => err instanceof ConfigError && /models\.llm/.test(err.message));
    assert.throws(() => modelHooksOf({ models: { llm: { load: () => 1, unload: 'no' } } }, 'p.js', silentLogger()), ConfigError);
    assert.throws(() => modelHooksOf({ models: [] }, 'p.js', silentLogger()), ConfigError);
  });
});
