import { strict as assert } from 'node:assert';
import type { Member } from '../../../src/cluster/membership';
import { loadConfig } from '../../../src/config';
import { KiPool } from '../../../src/an/ki-pool';
import { KiTracker } from '../../../src/an/ki-tracker';
import { silentLogger } from '../../../src/observability/logger';
import { until } from './an-harness';
import { fakeDelivery, heldOnPool, kiHeartbeat } from './parts-fixtures';

/** A tracker for group g1 with short membership timeouts; capacity changes and lost Kis are recorded. */
function tracker(quarantined: Set<string> = new Set()) {
  const config = loadConfig({ env: { NODE_ENV: 'test', NODE_ID: 'an-1', SUSPECT_AFTER_MS: '20', DEAD_AFTER_MS: '40' } });
  const pool = new KiPool('least-loaded');
  const { metrics } = heldOnPool();
  const lost: Member[] = [];
  let changes = 0;
  const kis = new KiTracker({
    config, group: 'g1', pool, reputation: { quarantined: () => Promise.resolve(quarantined) }, log: silentLogger(), metrics,
    onCapacityChanged: () => { changes++; }, onKiLost: (m) => { lost.push(m); },
  });
  kis.start();
  const beat = (hb: ReturnType<typeof kiHeartbeat>, sender = hb.id) => {
    const delivery = fakeDelivery();
    kis.onHeartbeat({ msg: { id: 'm', type: 'node.heartbeat', sender, senderRole: hb.role, timestampMs: Date.now(), payload: hb }, delivery } as never);
    return delivery;
  };
  return { kis, pool, lost, beat, changes: () => changes };
}

describe('KiTracker: heartbeats make the pool the An places on', () => {
  it('adds the Kis of its group to the pool and sees every Ki of the cluster', () => {
    const { kis, pool, beat, changes } = tracker();
    assert.equal(beat(kiHeartbeat('ki-1')).settled, 'ack');
    beat(kiHeartbeat('ki-9', { group: 'g2' }));
    assert.deepEqual(pool.ids(), ['ki-1']);
    assert.equal(changes(), 1);
    assert.deepEqual(kis.clusterKis().map((k) => k.id).sort(), ['ki-1', 'ki-9']);
  });

  it('takes a leaving Ki out of the pool', () => {
    const { pool, beat } = tracker();
    beat(kiHeartbeat('ki-1'));
    beat(kiHeartbeat('ki-1', { status: 'leaving' }));
    assert.equal(pool.has('ki-1'), false);
  });

  it('refuses, before the ack, a heartbeat sent for another node', () => {
    const { pool, beat } = tracker();
    assert.throws(() => beat(kiHeartbeat('ki-1', { status: 'leaving' }), 'ki-2'));
    assert.equal(pool.has('ki-1'), false);
  });

  it('reports a Ki whose heartbeats stopped as lost, and forgets it', async () => {
    const { kis, pool, lost, beat } = tracker();
    beat(kiHeartbeat('ki-1'));
    await until(() => { kis.tick(); return lost.map((m) => [m.id, m.status]); }, (l) => l.length > 0, 'ki-1 lost');
    assert.deepEqual(lost.map((m) => [m.id, m.status]), [['ki-1', 'dead']]);
    assert.equal(pool.has('ki-1'), false);
  });

  it('leaves quarantined Kis out of the capacity', async () => {
    const { kis, pool, beat } = tracker(new Set(['ki-1']));
    beat(kiHeartbeat('ki-1'));
    beat(kiHeartbeat('ki-2'));
    assert.equal(pool.capacity, 4);
    await kis.refreshQuarantine();
    assert.equal(pool.capacity, 2);
  });
});
