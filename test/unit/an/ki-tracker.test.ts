import { strict as assert } from 'node:assert';
import { Hearing } from '../../../src/cluster/hearing';
import type { Member } from '../../../src/cluster/membership';
import { loadConfig } from '../../../src/config';
import { KiPool } from '../../../src/an/ki-pool';
import { KiTracker } from '../../../src/an/ki-tracker';
import { silentLogger } from '../../../src/observability/logger';
import { until } from './an-harness';
import { fakeDelivery, heldOnPool, kiHeartbeat } from './parts-fixtures';

/** A tracker for group g1 with short membership timeouts; capacity changes and lost Kis are recorded. */
function tracker(quarantined: Set<string> = new Set(), hearing?: Hearing) {
  const config = loadConfig({ env: { NODE_ENV: 'test', NODE_ID: 'an-1', SUSPECT_AFTER_MS: '20', DEAD_AFTER_MS: '40', HEARTBEAT_MS: '5', CLUSTER_RESUME_GRACE_MS: '0' } });
  const pool = new KiPool('least-loaded');
  const { metrics } = heldOnPool();
  const lost: Member[] = [];
  const why: string[] = [];
  let changes = 0;
  const kis = new KiTracker({
    config, group: 'g1', pool, reputation: { quarantined: () => Promise.resolve(quarantined) }, controls: { all: () => Promise.resolve([]) }, log: silentLogger(), metrics,
    onCapacityChanged: () => { changes++; }, onKiLost: (m, reason) => { lost.push(m); why.push(reason); }, ...(hearing ? { hearing } : {}),
  });
  kis.start();
  const beat = (hb: ReturnType<typeof kiHeartbeat>, sender = hb.id) => {
    const delivery = fakeDelivery();
    const instance = hb.instance === undefined ? {} : { senderInstance: hb.instance };
    kis.onHeartbeat({ msg: { id: 'm', type: 'node.heartbeat', sender, senderRole: hb.role, ...instance, timestampMs: Date.now(), payload: hb }, delivery } as never);
    return delivery;
  };
  return { kis, pool, lost, why, beat, changes: () => changes };
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

  it('reports the attempts of a Ki restarted under the same id (a new start time) as lost at once, and keeps it in the pool', () => {
    const { pool, lost, why, beat } = tracker();
    beat(kiHeartbeat('ki-1', { startedAtMs: 1000 }));
    const reserved = pool.reserve('echo');
    assert.equal(reserved, 'ki-1');
    beat(kiHeartbeat('ki-1', { startedAtMs: 1000 }));
    assert.equal(lost.length, 0, 'the same process heartbeating again is no restart');
    beat(kiHeartbeat('ki-1', { startedAtMs: 5000 }));
    assert.deepEqual(lost.map((m) => [m.id, m.heartbeat.startedAtMs]), [['ki-1', 1000]], 'the old process is reported');
    assert.match(why[0] ?? '', /restarted/);
    assert.equal(pool.has('ki-1'), true, 'the new process takes work');
    pool.release('ki-1');
    assert.equal(pool.free, 2, 'the slot of the lost attempt goes back to the entry that lent it');
  });

  it('recognises a restart by its issued instance too, the start time unchanged', () => {
    const { lost, beat } = tracker();
    beat(kiHeartbeat('ki-1', { instance: 'a'.repeat(22) }));
    beat(kiHeartbeat('ki-1', { instance: 'b'.repeat(22) }));
    assert.equal(lost.length, 1);
  });

  it('does not report again a Ki already dead when it comes back as a new process', async () => {
    const { kis, lost, beat } = tracker();
    beat(kiHeartbeat('ki-1', { startedAtMs: 1000 }));
    await until(() => { kis.tick(); return lost.length; }, (n) => n > 0, 'ki-1 lost');
    beat(kiHeartbeat('ki-1', { startedAtMs: 5000 }));
    assert.equal(lost.length, 1);
  });

  it('leaves quarantined Kis out of the capacity', async () => {
    const { kis, pool, beat } = tracker(new Set(['ki-1']));
    beat(kiHeartbeat('ki-1'));
    beat(kiHeartbeat('ki-2'));
    assert.equal(pool.capacity, 4);
    await kis.refreshQuarantine();
    assert.equal(pool.capacity, 2);
  });

  it('loses no Ki while it does not hear its own heartbeat back, and judges them again once it does', async () => {
    const self = { role: 'an' as const, id: 'an-1', startedAtMs: 77 };
    const hearing = new Hearing({ self, cluster: { heartbeatMs: 5, suspectAfterMs: 20 } });
    const { kis, pool, lost, beat } = tracker(new Set(), hearing);
    const own = kiHeartbeat('an-1', { role: 'an', startedAtMs: 77 });
    hearing.start();
    assert.equal(beat(own).settled, 'ack');
    beat(kiHeartbeat('ki-1'));
    assert.deepEqual(kis.clusterKis().map((k) => k.id), ['ki-1'], 'its own heartbeat is no Ki');
    // Cut off: neither its own heartbeat nor the Ki's comes through, for many dead times.
    const cutUntil = Date.now() + 200;
    while (Date.now() < cutUntil) { kis.tick(); await new Promise((r) => setTimeout(r, 5)); }
    assert.equal(lost.length, 0, 'the silence is its own');
    assert.equal(pool.has('ki-1'), true);
    // Back: it hears itself, and a Ki that stays silent is lost after its remaining time.
    await until(() => { beat(own); kis.tick(); return lost.length; }, (n) => n > 0, 'ki-1 lost once heard silent');
    assert.deepEqual(lost.map((m) => [m.id, m.status]), [['ki-1', 'dead']]);
  });
});
