import { strict as assert } from 'node:assert';
import { createExecutorRegistry } from '../../../../src/ki/executors/registry';
import type { Executor } from '../../../../src/ki/executors/types';

const echo: Executor = async (payload) => payload;
const sleep: Executor = async () => null;

describe('createExecutorRegistry', () => {
  it('finds the executor of a registered type', () => {
    const registry = createExecutorRegistry({ echo, sleep });
    assert.equal(registry.get('echo'), echo);
    assert.equal(registry.get('sleep'), sleep);
  });

  it('answers undefined for a type this Ki does not run, including inherited names', () => {
    const registry = createExecutorRegistry({ echo });
    assert.equal(registry.get('exec'), undefined);
    assert.equal(registry.get('constructor'), undefined);
    assert.equal(registry.get('toString'), undefined);
  });

  it('lists its types sorted, for heartbeats, without letting callers change them', () => {
    const registry = createExecutorRegistry({ sleep, echo });
    const types = registry.types();
    assert.deepEqual(types, ['echo', 'sleep']);
    types.push('exec');
    assert.deepEqual(registry.types(), ['echo', 'sleep']);
  });

  it('is not affected by later changes to the object it was built from', () => {
    const entries: Record<string, Executor> = { echo };
    const registry = createExecutorRegistry(entries);
    entries['sleep'] = sleep;
    assert.equal(registry.get('sleep'), undefined);
  });

  it('refuses an entry that is not a function', () => {
    assert.throws(() => createExecutorRegistry({ echo: 'nope' as unknown as Executor }), /"echo" is not a function/);
  });
});
