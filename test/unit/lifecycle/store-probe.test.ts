import { strict as assert } from 'node:assert';
import { StoreProbe } from '../../../src/lifecycle/store-probe';
import type { Logger } from '../../../src/observability';

describe('the store readiness probe', () => {
  it('follows the ping and logs only the transitions', async () => {
    const lines: string[] = [];
    const log = { info: (msg: string) => lines.push(`info ${msg}`), warn: (_o: unknown, msg: string) => lines.push(`warn ${msg}`) } as unknown as Logger;
    let up = true;
    const timeouts: number[] = [];
    const probe = new StoreProbe({ ping: async (ms) => { timeouts.push(ms); if (!up) throw new Error('Connection terminated unexpectedly'); }, intervalMs: 1000, timeoutMs: 750, log });
    assert.equal(probe.reachable, true);
    assert.equal(await probe.check(), true);
    up = false;
    assert.equal(await probe.check(), false);
    assert.equal(await probe.check(), false);
    assert.equal(probe.reachable, false);
    up = true;
    assert.equal(await probe.check(), true);
    assert.deepEqual(lines, ['warn database not reachable; not ready until it answers', 'info database reachable again; ready']);
    assert.deepEqual(new Set(timeouts), new Set([750]));
  });
});
