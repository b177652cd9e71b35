import { strict as assert } from 'node:assert';
import { ConfigError } from '../../../../src/errors';
import { parseGpuSetting } from '../../../../src/ki/gpu';

describe('parseGpuSetting', () => {
  it('understands auto and none in any case and with spaces around', () => {
    assert.deepEqual(parseGpuSetting('auto'), { kind: 'auto' });
    assert.deepEqual(parseGpuSetting(' NONE '), { kind: 'none' });
  });

  it('reads a JSON list of fake GPUs', () => {
    const setting = parseGpuSetting('[{"index":0,"uuid":"GPU-fake-0","name":"Fake A100","memoryMiB":40960}]');
    assert.deepEqual(setting, { kind: 'list', devices: [{ index: 0, uuid: 'GPU-fake-0', name: 'Fake A100', memoryMiB: 40960, memoryUsedMiB: 0 }] });
  });

  it('fills in uuid and name a fake GPU leaves out', () => {
    const setting = parseGpuSetting('[{"index":3,"memoryMiB":24576}]');
    assert.equal(setting.kind, 'list');
    assert.deepEqual(setting.kind === 'list' && setting.devices[0], { index: 3, uuid: 'GPU-fake-3', name: 'Fake GPU 3', memoryMiB: 24576, memoryUsedMiB: 0 });
  });

  it('accepts an empty list as a Ki without GPUs', () => {
    assert.deepEqual(parseGpuSetting('[]'), { kind: 'list', devices: [] });
  });

  it('says the value is not JSON when the list is broken', () => {
    assert.throws(() => parseGpuSetting('[{"index":0,'), (err: unknown) => err instanceof ConfigError && /^ki\.gpus is not valid JSON/.test(err.message));
  });

  it('names the field of the GPU that is wrong', () => {
    assert.throws(() => parseGpuSetting('[{"index":0,"memoryMiB":1},{"index":1,"memoryMiB":"lots"}]'), /ki\.gpus\[1\]\.memoryMiB/);
    assert.throws(() => parseGpuSetting('[{"index":-1,"memoryMiB":1}]'), /ki\.gpus\[0\]\.index/);
  });

  it('refuses an unknown field so that a typo is not silently ignored', () => {
    assert.throws(() => parseGpuSetting('[{"index":0,"memoryMb":40960}]'), /ki\.gpus\[0\].*memoryMb/s);
  });

  it('refuses two GPUs with the same index or uuid', () => {
    assert.throws(() => parseGpuSetting('[{"index":0,"memoryMiB":1},{"index":0,"memoryMiB":1}]'), /index 0 appears more than once/);
    assert.throws(() => parseGpuSetting('[{"index":0,"uuid":"u","memoryMiB":1},{"index":1,"uuid":"u","memoryMiB":1}]'), /uuid u appears more than once/);
  });

  it('refuses anything else, quoting it', () => {
    assert.throws(() => parseGpuSetting('all'), /ki\.gpus must be "auto", "none" or a JSON list of GPUs, got "all"/);
    assert.throws(() => parseGpuSetting(''), ConfigError);
    assert.throws(() => parseGpuSetting('{"index":0}'), ConfigError);
  });
});
