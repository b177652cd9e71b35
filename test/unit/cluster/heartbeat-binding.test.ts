import { strict as assert } from 'node:assert';
import { requireOwnHeartbeat } from '../../../src/cluster/heartbeat-binding';
import { Membership, type Heartbeat } from '../../../src/cluster/membership';
import { reportRefusedMembers } from '../../../src/cluster/membership-refusals';
import { MessageRejectedError } from '../../../src/errors';
import { silentLogger } from '../../../src/observability/logger';
import type { OpenedMessage } from '../../../src/security/envelope';
import type { NodeRole } from '../../../src/security/permissions';

function hb(id: string, role: Heartbeat['role'], over: Partial<Heartbeat> = {}): Heartbeat {
  return { v: 1, id, role, group: 'g1', status: 'alive', startedAtMs: 0, version: '0', load: 0, slots: { total: 1, busy: 0 }, gpus: [], types: [], labels: [], ...over };
}

/** A heartbeat as the envelope hands it over: sender, role and instance from the verified token. */
function opened(payload: Heartbeat, sender: string, senderRole: NodeRole, senderInstance?: string): OpenedMessage<'node.heartbeat'> {
  return { id: 'm1', type: 'node.heartbeat', sender, senderRole, ...(senderInstance ? { senderInstance } : {}), timestampMs: 0, payload };
}

const refusedAsSender = (fn: () => unknown) => assert.throws(fn, (err: unknown) => err instanceof MessageRejectedError && err.reason === 'sender');

describe('a heartbeat is bound to its verified sender', () => {
  it('accepts a node heartbeating for itself in its own role (shared mode: no instance on either side)', () => {
    assert.equal(requireOwnHeartbeat(opened(hb('ki-1', 'ki'), 'ki-1', 'ki')).id, 'ki-1');
    assert.equal(requireOwnHeartbeat(opened(hb('p1', 'principal'), 'p1', 'principal')).id, 'p1');
  });

  it('refuses a heartbeat naming another node, e.g. a Ki announcing that an An is leaving', () => {
    refusedAsSender(() => requireOwnHeartbeat(opened(hb('an-1', 'an', { status: 'leaving' }), 'ki-2', 'ki')));
    refusedAsSender(() => requireOwnHeartbeat(opened(hb('ki-1', 'ki', { status: 'leaving' }), 'ki-2', 'ki')));
  });

  it('refuses a heartbeat in a role the token does not carry (a Ki posing as an An under its own id)', () => {
    refusedAsSender(() => requireOwnHeartbeat(opened(hb('ki-1', 'an'), 'ki-1', 'ki')));
    refusedAsSender(() => requireOwnHeartbeat(opened(hb('an-1', 'principal', { leader: true, term: 99 }), 'an-1', 'an')));
  });

  it('lets a standalone node heartbeat as each role it runs, under its own id only', () => {
    for (const role of ['principal', 'an', 'ki', 'standalone'] as const) assert.equal(requireOwnHeartbeat(opened(hb('solo', role), 'solo', 'standalone')).role, role);
    refusedAsSender(() => requireOwnHeartbeat(opened(hb('other', 'ki'), 'solo', 'standalone')));
  });

  it('issued mode: requires the instance the token was issued to', () => {
    const inst = 'instance-aaaaaaaaaaaaaaaa';
    assert.equal(requireOwnHeartbeat(opened(hb('ki-1', 'ki', { instance: inst }), 'ki-1', 'ki', inst)).instance, inst);
    refusedAsSender(() => requireOwnHeartbeat(opened(hb('ki-1', 'ki', { instance: 'instance-bbbbbbbbbbbbbbbb' }), 'ki-1', 'ki', inst)));
    refusedAsSender(() => requireOwnHeartbeat(opened(hb('ki-1', 'ki'), 'ki-1', 'ki', inst)));
    refusedAsSender(() => requireOwnHeartbeat(opened(hb('p1', 'principal', { instance: inst }), 'p1', 'principal')));
  });
});

describe('the membership list is bounded', () => {
  const TIMEOUTS = { suspectAfterMs: 1000, deadAfterMs: 2500, removeAfterMs: 10_000 };

  it('refuses new members beyond maxMembers while known ones keep updating', () => {
    const m = new Membership({ ...TIMEOUTS, maxMembers: 2 }, () => 0);
    const refused: string[] = [];
    m.on('refused', (h) => refused.push(h.id));
    assert.ok(m.observe(hb('ki-1', 'ki')));
    assert.ok(m.observe(hb('ki-2', 'ki')));
    assert.equal(m.observe(hb('ki-3', 'ki')), undefined);
    assert.equal(m.get('ki', 'ki-3'), undefined);
    assert.equal(m.observe(hb('ki-1', 'ki', { load: 0.5 }))?.heartbeat.load, 0.5, 'a known member still updates');
    assert.equal(m.size, 2);
    assert.deepEqual(refused, ['ki-3']);
  });

  it('takes new members again once dead ones are removed', () => {
    const clock = { now: 0 };
    const m = new Membership({ ...TIMEOUTS, maxMembers: 1 }, () => clock.now);
    m.observe(hb('ki-1', 'ki'));
    assert.equal(m.observe(hb('ki-2', 'ki')), undefined);
    clock.now = 20_000;
    m.tick();
    m.tick();
    assert.ok(m.observe(hb('ki-2', 'ki')));
  });

  it('counts every refusal and logs them at most once per interval', () => {
    const clock = { now: 0 };
    const m = new Membership({ ...TIMEOUTS, maxMembers: 1 }, () => clock.now);
    const lines: unknown[] = [];
    const log = silentLogger();
    log.warn = ((obj: unknown) => { lines.push(obj); });
    let counted = 0;
    reportRefusedMembers(m, { log, counter: { inc: () => { counted++; } }, maxMembers: 1, intervalMs: 1000, now: () => clock.now });
    m.observe(hb('ki-1', 'ki'));
    for (let i = 0; i < 50; i++) m.observe(hb(`phantom-${i}`, 'ki'));
    assert.equal(counted, 50);
    assert.equal(lines.length, 1);
    clock.now = 1500;
    m.observe(hb('phantom-x', 'ki'));
    assert.equal(lines.length, 2);
    assert.equal((lines[1] as { refused: number }).refused, 50, 'the second line says how many were refused since the first');
  });
});
