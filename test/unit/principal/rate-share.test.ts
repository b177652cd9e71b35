import { strict as assert } from 'node:assert';
import { Membership } from '../../../src/cluster/membership';
import { principalRateShare } from '../../../src/principal/rate-share';
import { heartbeat } from './principal-harness';

describe('principalRateShare', () => {
  it('splits the rate over the principals alive or suspect, itself included, and follows membership changes', () => {
    let nowMs = 1_000_000;
    const membership = new Membership({ suspectAfterMs: 1000, deadAfterMs: 2500, removeAfterMs: 60_000 }, () => nowMs);
    const share = principalRateShare(membership);
    assert.equal(share(), 1, 'alone (or not hearing itself yet): the whole rate');
    membership.observe(heartbeat('p1', { role: 'principal' }));
    membership.observe(heartbeat('k1'));
    membership.observe(heartbeat('an-1', { role: 'an', group: 'an-1' }));
    assert.equal(share(), 1, 'Ans and Kis do not serve REST');
    membership.observe(heartbeat('p2', { role: 'principal' }));
    membership.observe(heartbeat('p3', { role: 'principal' }));
    assert.equal(share(), 1 / 3);
    nowMs += 1500;
    membership.observe(heartbeat('p1', { role: 'principal' }));
    membership.observe(heartbeat('p2', { role: 'principal' }));
    membership.tick();
    assert.equal(share(), 1 / 3, 'a suspect principal may still serve: its share stays reserved');
    nowMs += 1500;
    membership.observe(heartbeat('p1', { role: 'principal' }));
    membership.observe(heartbeat('p2', { role: 'principal' }));
    membership.tick();
    assert.equal(share(), 1 / 2, 'a dead principal no longer counts');
    membership.observe(heartbeat('p2', { role: 'principal', status: 'leaving' }));
    assert.equal(share(), 1, 'nor does one that left');
  });
});
