import { strict as assert } from 'node:assert';
import { Membership, type Heartbeat, type Member, type MemberStatus } from '../../../src/cluster/membership';

function hb(id: string, role: Heartbeat['role'] = 'ki', status: Heartbeat['status'] = 'alive'): Heartbeat {
  return {
    v: 1, id, role, group: 'g1', status, startedAtMs: 0, version: '0.1.0', load: 0,
    slots: { total: 2, busy: 0 }, gpus: [], types: ['echo'], labels: [],
  };
}

const TIMEOUTS = { suspectAfterMs: 1000, deadAfterMs: 2500, removeAfterMs: 10_000 };

/** Membership with a clock the test moves and a log of every event. */
function setup() {
  const clock = { now: 0 };
  const m = new Membership(TIMEOUTS, () => clock.now);
  const changes: [string, MemberStatus | undefined, MemberStatus][] = [];
  const removed: string[] = [];
  m.on('change', (member: Member, prev) => changes.push([member.id, prev, member.status]));
  m.on('removed', (member: Member) => removed.push(member.id));
  return { clock, m, changes, removed };
}

describe('Membership', () => {
  it('announces a new member as alive', () => {
    const { m, changes } = setup();
    const member = m.observe(hb('ki-1'))!;
    assert.equal(member.status, 'alive');
    assert.deepEqual(changes, [['ki-1', undefined, 'alive']]);
    assert.equal(m.get('ki', 'ki-1')?.status, 'alive');
  });

  it('moves a silent member from alive to suspect to dead to removed by heartbeat age', () => {
    const { clock, m, changes, removed } = setup();
    m.observe(hb('ki-1'));
    clock.now = 999;
    m.tick();
    assert.equal(m.get('ki', 'ki-1')?.status, 'alive');
    clock.now = 1000;
    m.tick();
    assert.equal(m.get('ki', 'ki-1')?.status, 'suspect');
    clock.now = 2499;
    m.tick();
    assert.equal(m.get('ki', 'ki-1')?.status, 'suspect');
    clock.now = 2500;
    m.tick();
    assert.equal(m.get('ki', 'ki-1')?.status, 'dead');
    clock.now = 9999;
    m.tick();
    assert.equal(m.list().length, 1);
    clock.now = 10_000;
    m.tick();
    assert.equal(m.get('ki', 'ki-1'), undefined);
    assert.deepEqual(m.list(), []);
    assert.deepEqual(changes, [['ki-1', undefined, 'alive'], ['ki-1', 'alive', 'suspect'], ['ki-1', 'suspect', 'dead']]);
    assert.deepEqual(removed, ['ki-1']);
  });

  it('emits one change from alive straight to dead when ticks were missed', () => {
    const { clock, m, changes } = setup();
    m.observe(hb('ki-1'));
    clock.now = 3000;
    m.tick();
    assert.deepEqual(changes.slice(1), [['ki-1', 'alive', 'dead']]);
  });

  it('emits nothing on ticks that change no status', () => {
    const { clock, m, changes } = setup();
    m.observe(hb('ki-1'));
    for (clock.now = 0; clock.now < 1000; clock.now += 100) m.tick();
    assert.equal(changes.length, 1);
  });

  it('keeps a member alive while it heartbeats', () => {
    const { clock, m, changes } = setup();
    for (clock.now = 0; clock.now < 10_000; clock.now += 500) {
      m.observe(hb('ki-1'));
      m.tick();
    }
    assert.equal(m.get('ki', 'ki-1')?.status, 'alive');
    assert.equal(changes.length, 1);
  });

  it('marks a member that heartbeats leaving as left at once, and removes it later', () => {
    const { clock, m, changes, removed } = setup();
    m.observe(hb('an-1', 'an'));
    clock.now = 100;
    const member = m.observe(hb('an-1', 'an', 'leaving'))!;
    assert.equal(member.status, 'left');
    assert.deepEqual(changes.at(-1), ['an-1', 'alive', 'left']);
    clock.now = 5000;
    m.tick();
    assert.equal(m.get('an', 'an-1')?.status, 'left', 'a member that left does not become dead');
    clock.now = 100 + 10_000;
    m.tick();
    assert.equal(m.get('an', 'an-1'), undefined);
    assert.deepEqual(removed, ['an-1']);
  });

  it('brings a dead member that heartbeats again back to alive, as a new incarnation', () => {
    const { clock, m, changes } = setup();
    m.observe(hb('ki-1'));
    clock.now = 3000;
    m.tick();
    assert.equal(m.get('ki', 'ki-1')?.status, 'dead');
    clock.now = 3500;
    const member = m.observe(hb('ki-1'))!;
    assert.equal(member.status, 'alive');
    assert.equal(member.firstSeenMs, 3500);
    assert.equal(member.lastSeenMs, 3500);
    assert.deepEqual(changes.at(-1), ['ki-1', 'dead', 'alive']);
  });

  it('brings a suspect member back to alive and keeps when it was first seen', () => {
    const { clock, m, changes } = setup();
    clock.now = 50;
    m.observe(hb('ki-1'));
    clock.now = 1200;
    m.tick();
    assert.equal(m.get('ki', 'ki-1')?.status, 'suspect');
    clock.now = 1300;
    const member = m.observe(hb('ki-1'))!;
    assert.equal(member.status, 'alive');
    assert.equal(member.firstSeenMs, 50);
    assert.deepEqual(changes.at(-1), ['ki-1', 'suspect', 'alive']);
  });

  it('keeps the latest heartbeat of each member', () => {
    const { clock, m } = setup();
    m.observe(hb('ki-1'));
    clock.now = 10;
    m.observe({ ...hb('ki-1'), load: 0.75 });
    assert.equal(m.get('ki', 'ki-1')?.heartbeat.load, 0.75);
    assert.equal(m.get('ki', 'ki-1')?.lastSeenMs, 10);
  });

  it('tells members of different roles with the same id apart', () => {
    const { m } = setup();
    m.observe(hb('node-1', 'an'));
    m.observe(hb('node-1', 'ki'));
    m.observe(hb('ki-2', 'ki'));
    assert.equal(m.list().length, 3);
    assert.deepEqual(m.byRole('ki').map((x) => x.id).sort(), ['ki-2', 'node-1']);
    assert.deepEqual(m.byRole('an').map((x) => x.id), ['node-1']);
  });

  it('ages each member by its own last heartbeat', () => {
    const { clock, m } = setup();
    m.observe(hb('old'));
    clock.now = 800;
    m.observe(hb('new'));
    clock.now = 1200;
    m.tick();
    assert.equal(m.get('ki', 'old')?.status, 'suspect');
    assert.equal(m.get('ki', 'new')?.status, 'alive');
  });
});
