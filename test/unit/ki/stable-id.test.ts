import { strict as assert } from 'node:assert';
import { ConfigError } from '../../../src/errors';
import { resolveStableId } from '../../../src/ki/stable-id';

const base = { configured: '', fromHostname: false, hostname: 'anki-ki-3', gpuUuids: [] as string[], nodeId: 'ki-anki-ki-3-4711' };

describe('resolveStableId', () => {
  it('takes NODE_STABLE_ID first', () => {
    assert.equal(resolveStableId({ ...base, configured: 'rack1-box4', fromHostname: true, gpuUuids: ['GPU-1'] }), 'rack1-box4');
  });

  it('refuses a NODE_STABLE_ID that could not be a node id', () => {
    assert.throws(() => resolveStableId({ ...base, configured: 'a b' }), ConfigError);
  });

  it('takes a StatefulSet hostname when asked, and only one that ends in an ordinal', () => {
    assert.equal(resolveStableId({ ...base, fromHostname: true }), 'anki-ki-3');
    assert.equal(resolveStableId({ ...base, fromHostname: true, hostname: 'laptop' }), base.nodeId);
    assert.equal(resolveStableId(base), base.nodeId, 'not without KI_STABLE_ID_FROM_HOSTNAME');
  });

  it('hashes the GPU UUIDs in any order to the same id', () => {
    const a = resolveStableId({ ...base, gpuUuids: ['GPU-b', 'GPU-a'] });
    assert.match(a, /^gpu-[0-9a-f]{20}$/);
    assert.equal(resolveStableId({ ...base, gpuUuids: ['GPU-a', 'GPU-b'] }), a);
    assert.notEqual(resolveStableId({ ...base, gpuUuids: ['GPU-a'] }), a);
  });
});
