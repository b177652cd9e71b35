import { strict as assert } from 'node:assert';
import { Hearing } from '../../../src/cluster/hearing';
import type { Heartbeat } from '../../../src/cluster/membership';

const SELF = { role: 'an' as const, id: 'an-1', startedAtMs: 42 };

function hb(over: Partial<Heartbeat> = {}): Heartbeat {
  return {
    v: 1, id: SELF.id, role: SELF.role, group: 'an-1', status: 'alive', startedAtMs: SELF.startedAtMs, version: '0.1.0', load: 0,
    slots: { total: 0, busy: 0 }, gpus: [], types: [], labels: [], ...over,
  };
}

function setup() {
  const clock = { now: 1000 };
  const hearing = new Hearing({ self: SELF, cluster: { heartbeatMs: 100, suspectAfterMs: 500 }, now: () => clock.now });
  return { clock, hearing };
}

describe('Hearing: a node hears the cluster while its own heartbeat comes back', () => {
  it('hears before it starts: nothing is expected back yet', () => {
    const { clock, hearing } = setup();
    clock.now = 50_000;
    assert.equal(hearing.hearing, true);
    assert.equal(hearing.heardUntilMs(), 50_000);
  });

  it('hears while its own heartbeat keeps coming back, and stops when it has not for the suspect time', () => {
    const { clock, hearing } = setup();
    hearing.start();
    clock.now = 1400;
    assert.equal(hearing.echo(hb()), true);
    clock.now = 1899;
    assert.equal(hearing.hearing, true);
    clock.now = 1900;
    assert.equal(hearing.heardUntilMs(), 1900);
    clock.now = 2500;
    assert.equal(hearing.hearing, false);
    assert.equal(hearing.heardUntilMs(), 1900, 'it heard until the suspect time after its last echo');
    assert.equal(hearing.deafForMs(), 600);
  });

  it('counts only its own process: another id, role or start time under the same id is someone else', () => {
    const { clock, hearing } = setup();
    hearing.start();
    clock.now = 5000;
    assert.equal(hearing.echo(hb({ id: 'an-2' })), false);
    assert.equal(hearing.echo(hb({ role: 'ki' })), false);
    assert.equal(hearing.echo(hb({ startedAtMs: 43 })), false, 'a second process under the same id');
    assert.equal(hearing.hearing, false);
  });

  it('stops hearing at once when the broker connection drops, and hears again only once its own heartbeat is back', () => {
    const { clock, hearing } = setup();
    hearing.start();
    clock.now = 1200;
    hearing.echo(hb());
    clock.now = 1300;
    hearing.onTransportStatus({ type: 'disconnected' });
    clock.now = 1310;
    assert.equal(hearing.hearing, false);
    assert.equal(hearing.heardUntilMs(), 1300);
    clock.now = 3000;
    hearing.onTransportStatus({ type: 'connected', reconnect: true });
    assert.equal(hearing.hearing, false, 'connected is not yet heard');
    assert.equal(hearing.heardUntilMs(), 1300);
    hearing.echo(hb());
    assert.equal(hearing.hearing, true);
  });
});
