import { strict as assert } from 'node:assert';
import { Membership } from '../../../src/cluster/membership';
import { silentLogger } from '../../../src/observability/logger';
import { GroupAssigner, kiWeight } from '../../../src/principal/group-assigner';
import { topologyNames } from '../../../src/protocol/names';
import type { MessageBus } from '../../../src/transport';
import { FakeLeadership, heartbeat } from './principal-harness';

const names = topologyNames('unitassign');

/** A bus that records the assignments sent. */
function recordingBus(): { bus: MessageBus; sent: { nodeId: string; group: string; term: number }[] } {
  const sent: { nodeId: string; group: string; term: number }[] = [];
  const bus = { send: (_target: unknown, _type: string, payload: { nodeId: string; group: string; term: number }) => { sent.push(payload); return Promise.resolve(); } } as unknown as MessageBus;
  return { bus, sent };
}

describe('GroupAssigner', () => {
  let nowMs: number;
  let membership: Membership;
  let leadership: FakeLeadership;

  beforeEach(() => {
    nowMs = 1_000_000;
    membership = new Membership({ suspectAfterMs: 1000, deadAfterMs: 2500, removeAfterMs: 60_000 }, () => nowMs);
    leadership = new FakeLeadership();
  });

  const an = (id: string) => membership.observe(heartbeat(id, { role: 'an', group: id, slots: { total: 0, busy: 0 } }));
  const ki = (id: string, group = '', busy = 0) => membership.observe(heartbeat(id, { group, slots: { total: 4, busy } }));
  const assigner = (over: { maxMovesPerRound?: number; pendingMs?: number } = {}) => {
    const { bus, sent } = recordingBus();
    return { a: new GroupAssigner({ membership, bus, names, leadership, log: silentLogger(), now: () => nowMs, ...over }), sent };
  };

  it('weighs a Ki by its slots plus one per 16 GiB of GPU memory', () => {
    const m = ki('k1')!;
    assert.equal(kiWeight(m), 4);
    const g = membership.observe(heartbeat('k2', { slots: { total: 2, busy: 0 }, gpus: [{ index: 0, uuid: 'u', name: 'H100', memoryMiB: 32768, memoryUsedMiB: 0 }] }))!;
    assert.equal(kiWeight(g), 4);
  });

  it('plans nothing while no An is alive', () => {
    ki('k1');
    assert.equal(assigner().a.plan().size, 0);
  });

  it('puts each Ki without a live group into the lightest group', () => {
    an('an-a'); an('an-b');
    ki('k1', 'an-a'); ki('k2'); ki('k3', 'gone');
    const moves = assigner().a.plan();
    assert.deepEqual([...moves].sort(), [['k2', 'an-b'], ['k3', 'an-a']].sort());
  });

  it('moves at most the configured number of idle Kis per round from the heaviest group, never a busy one', () => {
    an('an-a'); an('an-b');
    for (const id of ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']) ki(id, 'an-a');
    ki('k7', 'an-a', 1);
    assert.equal(assigner({ maxMovesPerRound: 1 }).a.plan().size, 1);
    const moves = assigner({ maxMovesPerRound: 5 }).a.plan();
    assert.ok(moves.size >= 2 && moves.size <= 5);
    assert.equal(moves.has('k7'), false, 'a busy Ki keeps its group');
    for (const g of moves.values()) assert.equal(g, 'an-b');
  });

  it('sends assignments with the leader term, only as leader, and counts a sent one as in effect until the pending time passes', async () => {
    an('an-a'); an('an-b');
    ki('k1', 'an-a'); ki('k2', 'an-a');
    leadership.term = 7;
    const { a, sent } = assigner({ pendingMs: 3000 });
    leadership.leading = false;
    await a.assign();
    assert.equal(sent.length, 0, 'a follower assigns nothing');
    leadership.leading = true;
    ki('k3');
    await a.assign();
    assert.deepEqual(sent, [{ v: 1, nodeId: 'k3', group: 'an-b', term: 7 }]);
    assert.equal(a.assignedGroup('k3'), 'an-b');
    // Not yet confirmed by a heartbeat: the plan counts k3 in an-b and does not move it again.
    assert.equal(a.plan(nowMs + 1000).size, 0);
    // Past the pending time without a confirming heartbeat, the Ki counts as groupless again.
    assert.equal(a.plan(nowMs + 3001).has('k3'), true);
  });

  it('stops a round once the lease is no longer its own: a leader frozen or cut off between two sends sends no more', async () => {
    an('an-a'); an('an-b');
    ki('k1'); ki('k2'); ki('k3');
    leadership.term = 3;
    const sent: string[] = [];
    const bus = { send: (_t: unknown, _type: string, p: { nodeId: string }) => { sent.push(p.nodeId); leadership.leading = false; return Promise.resolve(); } } as unknown as MessageBus;
    await new GroupAssigner({ membership, bus, names, leadership, log: silentLogger(), now: () => nowMs }).assign();
    assert.equal(sent.length, 1, 'the lease was lost after the first send');
  });
});
