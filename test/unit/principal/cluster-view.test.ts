import { strict as assert } from 'node:assert';
import { Membership } from '../../../src/cluster/membership';
import { ClusterView } from '../../../src/principal/cluster-view';
import { TaskCountCache } from '../../../src/principal/task-counts';
import { StoreStatsRepository } from '../../../src/store/store-stats-repository';
import { queuedTaskRecord } from '../../helpers/task-record';
import { type ReputationRepository } from '../../../src/store/reputation-repository';
import { heartbeat, PrincipalHarness } from './principal-harness';

describe('ClusterView', () => {
  let h: PrincipalHarness;
  let membership: Membership;
  let view: ClusterView;
  let quarantined: Set<string>;

  beforeEach(async () => {
    h = new PrincipalHarness();
    await h.start();
    membership = new Membership({ suspectAfterMs: 1000, deadAfterMs: 2500, removeAfterMs: 60_000 });
    quarantined = new Set();
    const reputation = { quarantined: () => Promise.resolve(new Set(quarantined)), release: (id: string) => Promise.resolve(quarantined.delete(id)) } as unknown as ReputationRepository;
    view = new ClusterView({ membership, leadership: h.leadership, reputation, taskCounts: new TaskCountCache({ stats: new StoreStatsRepository(h.db), cap: 2, ttlMs: 0 }), transport: h.transport, names: h.names, selfId: 'p1', admitted: () => 42 });
  });

  afterEach(() => h.stop());

  it('lists members by role then id, marks the leader principal and the quarantined Kis after a refresh', async () => {
    membership.observe(heartbeat('k2', { group: 'an-1' }));
    membership.observe(heartbeat('k1', { group: 'an-1', instance: 'i-1' }));
    membership.observe(heartbeat('an-1', { role: 'an', group: 'an-1' }));
    membership.observe(heartbeat('p1', { role: 'principal' }));
    quarantined.add('k2');
    assert.equal(view.nodes().find((n) => n.id === 'k2')?.quarantined, false, 'not read from the store yet');
    await view.refresh();
    const nodes = view.nodes();
    assert.deepEqual(nodes.map((n) => n.id), ['an-1', 'k1', 'k2', 'p1']);
    assert.equal(nodes.find((n) => n.id === 'p1')?.leader, true);
    assert.equal(nodes.find((n) => n.id === 'an-1')?.leader, false);
    assert.equal(nodes.find((n) => n.id === 'k2')?.quarantined, true);
    assert.equal(nodes.find((n) => n.id === 'k1')?.instance, 'i-1');
    assert.equal(await view.release('k2'), true);
    assert.equal(view.nodes().find((n) => n.id === 'k2')?.quarantined, false, 'a release refreshes the list');
  });

  it('sums up counts by role and status, groups, queue depths and the admitted tasks', async () => {
    membership.observe(heartbeat('an-1', { role: 'an', group: 'an-1' }));
    membership.observe(heartbeat('k1', { group: 'an-1' }));
    const s = await view.summary();
    assert.deepEqual(s.leader, { id: 'p1', term: 1 });
    assert.equal(s.self, 'p1');
    assert.equal(s.admitted, 42);
    assert.deepEqual(s.nodes, { an: { alive: 1 }, ki: { alive: 1 } });
    assert.deepEqual(s.groups, [{ group: 'an-1', an: ['an-1'], ki: ['k1'] }]);
    assert.equal(s.queues.pending, 0);
  });

  it('counts tasks by status up to the cap and says which statuses reached it and when it counted', async () => {
    await h.repo.insertMany([queuedTaskRecord(), queuedTaskRecord(), queuedTaskRecord(), queuedTaskRecord({ status: 'running' })]);
    const s = await view.summary();
    assert.deepEqual(s.tasks, { queued: 2, running: 1 });
    assert.deepEqual(s.tasksCapped, ['queued']);
    assert.ok(s.tasksCountedAt !== null && Date.parse(s.tasksCountedAt) <= Date.now());
  });
});
