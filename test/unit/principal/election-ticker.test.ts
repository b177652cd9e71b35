import { strict as assert } from 'node:assert';
import { ElectionTicker } from '../../../src/principal/election-ticker';
import { PrincipalHarness, until } from './principal-harness';

describe('ElectionTicker', () => {
  let h: PrincipalHarness;
  beforeEach(async () => {
    h = new PrincipalHarness();
    await h.start();
  });
  afterEach(() => h.stop());

  it('counts itself the candidate while its own ticks come back, and stops being one when they stop', async () => {
    let nowMs = Date.now();
    const ticker = new ElectionTicker({ bus: h.bus('p1', 'principal'), names: h.names, nodeId: 'p1', tickMs: 50, log: h.log, now: () => nowMs });
    assert.equal(ticker.isCandidate(), false);
    await ticker.start();
    await until(() => ticker.isCandidate(), (c) => c, 'a tick delivered back');
    await ticker.stop();
    nowMs += 3 * 50;
    assert.equal(ticker.isCandidate(), false, 'three tick periods without a tick');
  });
});
