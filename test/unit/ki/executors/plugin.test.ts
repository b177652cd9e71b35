import { strict as assert } from 'node:assert';
import { join, relative } from 'node:path';
import { ConfigError } from '../../../../src/errors';
import { loadPluginHandlers } from '../../../../src/ki/executors/plugin';
import { silentLogger } from '../../../../src/observability/logger';
import { fakeContext } from '../../../fixtures/ki/execution-context';

const pluginDir = join(__dirname, '../../../fixtures/ki/plugins');
const log = silentLogger();

describe('loadPluginHandlers', () => {
  it('turns each exported function into an executor for that task type', async () => {
    const handlers = loadPluginHandlers(join(pluginDir, 'handlers.js'), log);
    assert.deepEqual(Object.keys(handlers).sort(), ['sync', 'throwsSync', 'upper', 'whoami']);
    assert.deepEqual(await handlers['upper']?.({ text: 'hi' }, fakeContext()), { text: 'HI' });
  });

  it('resolves a relative path against the working directory', async () => {
    const handlers = loadPluginHandlers(relative(process.cwd(), join(pluginDir, 'handlers.js')), log);
    assert.ok(handlers['upper']);
  });

  it('hands the execution context to the handler as is', async () => {
    const handlers = loadPluginHandlers(join(pluginDir, 'handlers.js'), log);
    const ctx = fakeContext({ taskId: 'task-42' });
    assert.deepEqual(await handlers['whoami']?.({}, ctx), { taskId: 'task-42', gpus: 0 });
    assert.deepEqual(ctx.reported, [[0.5, 'half way']]);
  });

  it('turns synchronous results and throws into promises', async () => {
    const handlers = loadPluginHandlers(join(pluginDir, 'handlers.js'), log);
    assert.equal(await handlers['sync']?.(7, fakeContext()), 7);
    const pending = handlers['throwsSync']?.({}, fakeContext());
    assert.ok(pending instanceof Promise);
    await assert.rejects(pending, /handler broke/);
  });

  it('accepts handlers under a default export or a handlers export', async () => {
    const fromDefault = loadPluginHandlers(join(pluginDir, 'default-export.js'), log);
    assert.deepEqual(Object.keys(fromDefault), ['summarize']);
    assert.deepEqual(await fromDefault['summarize']?.({ text: 'a b c' }, fakeContext()), { words: 3 });
    const fromHandlers = loadPluginHandlers(join(pluginDir, 'handlers-export.js'), log);
    assert.equal(await fromHandlers['ping']?.({}, fakeContext()), 'pong');
  });

  it('names the path of a module that does not exist', () => {
    const missing = join(pluginDir, 'missing.js');
    assert.throws(() => loadPluginHandlers(missing, log), (err: unknown) => err instanceof ConfigError && err.message.includes(missing) && /does not exist/.test(err.message));
  });

  it('names the path and the export when an export is not a function', () => {
    assert.throws(() => loadPluginHandlers(join(pluginDir, 'not-functions.js'), log), /export "limit" of .*not-functions\.js is number, not a function/);
  });

  it('refuses a module that exports no handler', () => {
    assert.throws(() => loadPluginHandlers(join(pluginDir, 'empty.js'), log), /empty\.js exports no handlers/);
  });

  it('names the path of a module that throws while loading', () => {
    assert.throws(() => loadPluginHandlers(join(pluginDir, 'throws-on-load.js'), log), /throws-on-load\.js failed to load: cannot initialise model client/);
  });
});
