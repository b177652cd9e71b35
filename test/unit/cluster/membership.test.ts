import { strict as assert } from 'node:assert';
import { Hearing } from '../../../src/cluster/hearing';
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

describe('Membership: judged only while this node hears the cluster', () => {
  const SELF = { role: 'an' as const, id: 'an-self', startedAtMs: 7 };
  const own = (): Heartbeat => ({ ...hb(SELF.id, SELF.role), startedAtMs: SELF.startedAtMs });

  /** An An's view of three Kis, with its own heartbeat coming back every 100 ms until `cut`. */
  function setupHearing(resumeGraceMs = 0) {
    const clock = { now: 0 };
    const hearing = new Hearing({ self: SELF, cluster: { heartbeatMs: 100, suspectAfterMs: 1000 }, now: () => clock.now });
    const m = new Membership({ ...TIMEOUTS, resumeGraceMs }, () => clock.now, hearing);
    const changes: [string, MemberStatus][] = [];
    const paused: number[] = [];
    const resumed: number[] = [];
    m.on('change', (member: Member) => changes.push([member.id, member.status]));
    m.on('paused', (since) => paused.push(since));
    m.on('resumed', (deafFor) => resumed.push(deafFor));
    hearing.start();
    const kis = ['ki-1', 'ki-2', 'ki-3'];
    /** Every Ki and this node heartbeat (as far as `heard` lets through) every 100 ms until `until`. */
    const run = (until: number, heard: { self: boolean; kis: readonly string[] }) => {
      for (; clock.now < until; clock.now += 100) {
        if (heard.self) hearing.echo(own());
        for (const k of heard.kis) m.observe(hb(k));
        m.tick();
      }
    };
    const status = () => kis.map((k) => m.get('ki', k)?.status);
    return { clock, hearing, m, changes, paused, resumed, kis, run, status };
  }

  it('judges nobody while this node is cut off, and holds the silence meanwhile against nobody once it hears again', () => {
    const { run, status, changes, paused, resumed, kis } = setupHearing();
    run(2000, { self: true, kis });
    // Cut off for four times the dead time: nobody's heartbeat, its own included, comes through.
    run(12_000, { self: false, kis: [] });
    assert.deepEqual(status(), ['suspect', 'suspect', 'suspect'], 'suspect at most: silent for the suspect time before this node knew it did not hear');
    assert.deepEqual(paused, [1900 + 1000], "it stopped hearing the suspect time after its last echo");
    assert.equal(changes.filter(([, s]) => s === 'dead').length, 0);
    run(13_000, { self: true, kis });
    assert.deepEqual(status(), ['alive', 'alive', 'alive']);
    assert.equal(resumed.length, 1);
    assert.equal(changes.filter(([, s]) => s === 'dead').length, 0, 'nobody was declared dead');
  });

  it('moves the last heartbeat of a member not heard since forward by the time this node did not hear', () => {
    const { clock, hearing, m, run } = setupHearing();
    run(1000, { self: true, kis: ['ki-1'] });
    const lastSeen = m.get('ki', 'ki-1')!.lastSeenMs;
    run(9000, { self: false, kis: [] });
    const deafSince = lastSeen + 1000;
    clock.now = 9000;
    hearing.echo(own());
    m.tick();
    assert.equal(m.get('ki', 'ki-1')!.lastSeenMs, lastSeen + (9000 - deafSince), 'aged only by the time it was heard not to beat');
    assert.equal(m.get('ki', 'ki-1')!.status, 'suspect');
    // Silent for (deafSince - lastSeen) before; dead once the rest of the dead time has passed.
    const deadAt = 9000 + (2500 - (deafSince - lastSeen));
    run(deadAt, { self: true, kis: [] });
    assert.equal(m.get('ki', 'ki-1')!.status, 'suspect');
    run(deadAt + 100, { self: true, kis: [] });
    assert.equal(m.get('ki', 'ki-1')!.status, 'dead', 'a member that stays silent once this node hears again is dead after the rest of its time');
  });

  it('declares every member dead when all fall silent at once while this node still hears itself: they really died', () => {
    const { run, status } = setupHearing();
    run(1000, { self: true, kis: ['ki-1', 'ki-2', 'ki-3'] });
    run(4000, { self: true, kis: [] });
    assert.deepEqual(status(), ['dead', 'dead', 'dead']);
  });

  it('still judges the members it hears silent while it hears itself, one by one', () => {
    const { run, status } = setupHearing();
    run(1000, { self: true, kis: ['ki-1', 'ki-2', 'ki-3'] });
    run(4000, { self: true, kis: ['ki-2', 'ki-3'] });
    assert.deepEqual(status(), ['dead', 'alive', 'alive']);
  });

  it('gives every member the resume grace before it can turn dead, once this node hears again', () => {
    const { run, status, changes } = setupHearing(3000);
    run(2000, { self: true, kis: ['ki-1', 'ki-2', 'ki-3'] });
    run(6000, { self: false, kis: [] });
    // Back, but ki-3 reconnects late (it lost the broker too, and waits out its backoff).
    run(8900, { self: true, kis: ['ki-1', 'ki-2'] });
    assert.deepEqual(status(), ['alive', 'alive', 'suspect'], 'within the grace: suspect, not dead');
    run(9200, { self: true, kis: ['ki-1', 'ki-2'] });
    assert.deepEqual(status(), ['alive', 'alive', 'dead'], 'after the grace it is judged');
    assert.equal(changes.filter(([id, s]) => id === 'ki-3' && s === 'dead').length, 1);
  });

  it('takes a member heard while this node did not hear itself as seen when it was heard', () => {
    const { clock, hearing, m, run } = setupHearing();
    run(1000, { self: true, kis: ['ki-1', 'ki-2'] });
    run(5000, { self: false, kis: ['ki-2'] });
    assert.equal(m.get('ki', 'ki-2')!.status, 'alive');
    const ki2Seen = m.get('ki', 'ki-2')!.lastSeenMs;
    hearing.echo(own());
    m.tick();
    assert.equal(m.get('ki', 'ki-2')!.lastSeenMs, ki2Seen, 'not moved: it was heard after this node stopped hearing');
    assert.equal(clock.now, 5000);
  });
});
