import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { ConfigError } from '../../../../src/errors';
import { createConfiguredExecutors, type ConfiguredExecutorSettings } from '../../../../src/ki/executors/configured';
import { silentLogger } from '../../../../src/observability/logger';
import { fakeContext } from '../../../fixtures/ki/execution-context';

const pluginDir = join(__dirname, '../../../fixtures/ki/plugins');
const defaults: ConfiguredExecutorSettings = { execAllowlist: '{}', execPath: '/usr/bin:/bin', execUser: '', httpEndpoint: '', maxOutputBytes: 65536, killGraceMs: 2000, handlers: '', pluginIsolation: 'gpu' };

describe('createConfiguredExecutors', () => {
  it('offers nothing when nothing is configured, so the Ki advertises no type it would fail', () => {
    assert.deepEqual(Object.keys(createConfiguredExecutors(defaults, silentLogger())), []);
  });

  it('offers exec with an allowlist, http with an endpoint and every handler of the module', () => {
    const executors = createConfiguredExecutors(
      { ...defaults, execAllowlist: '{"echo":"/bin/echo"}', httpEndpoint: 'http://127.0.0.1:8000', handlers: join(pluginDir, 'handlers-export.js') },
      silentLogger(),
    );
    assert.deepEqual(Object.keys(executors).sort(), ['exec', 'http', 'ping']);
  });

  it('sends the handlers\' GPU calls to the plug-in workers and runs CPU calls in-process, unless isolation is none', async () => {
    const sent: string[] = [];
    const workers = { run: async (type: string) => { sent.push(type); return 'from a worker'; } };
    const gpu = { index: 0, uuid: 'GPU-0', name: 'Fake', memoryMiB: 1024, memoryUsedMiB: 0 };
    const ping = (isolation: ConfiguredExecutorSettings['pluginIsolation']) => createConfiguredExecutors({ ...defaults, handlers: join(pluginDir, 'handlers-export.js'), pluginIsolation: isolation }, silentLogger(), false, workers)['ping'];
    assert.equal(await ping('gpu')?.({}, fakeContext({ gpus: [gpu] })), 'from a worker');
    assert.equal(await ping('gpu')?.({}, fakeContext()), 'pong');
    assert.equal(await ping('all')?.({}, fakeContext()), 'from a worker');
    assert.equal(await ping('none')?.({}, fakeContext({ gpus: [gpu] })), 'pong');
    assert.deepEqual(sent, ['ping', 'ping']);
  });

  it('refuses a handler that would replace the exec executor and its allowlist', () => {
    assert.throws(
      () => createConfiguredExecutors({ ...defaults, execAllowlist: '{"echo":"/bin/echo"}', handlers: join(pluginDir, 'clashing.js') }, silentLogger()),
      (err: unknown) => err instanceof ConfigError && /type "exec" is already provided/.test(err.message),
    );
  });

  it('stops on a bad allowlist or endpoint with the key named', () => {
    assert.throws(() => createConfiguredExecutors({ ...defaults, execAllowlist: '{"echo":"echo"}' }, silentLogger()), /ki\.execAllowlist/);
    assert.throws(() => createConfiguredExecutors({ ...defaults, httpEndpoint: 'localhost:8000' }, silentLogger()), /ki\.httpEndpoint/);
  });
});
