import { strict as assert } from 'node:assert';
import type { Heartbeat, Member } from '../../../src/cluster/membership';
import { NodeControlsView } from '../../../src/principal/node-controls-view';
import type { NodeControl } from '../../../src/store/node-control-repository';

function member(id: string, over: Partial<Heartbeat> = {}, lastSeenMs = 0): Member {
  const heartbeat: Heartbeat = { v: 1, id, role: 'ki', group: 'g', status: 'alive', startedAtMs: 0, version: '0', load: 0, slots: { total: 2, busy: 0 }, gpus: [], types: [], labels: [], ...over };
  return { id, role: 'ki', status: 'alive', heartbeat, lastSeenMs, firstSeenMs: 0 };
}

function control(nodeId: string, over: Partial<NodeControl> = {}): NodeControl {
  return { nodeId, state: 'active', reason: null, changedBy: null, changedAt: new Date(0), benchedUntil: null, benchReason: null, benched: false, benchCount: 0, ...over };
}

describe('NodeControlsView: what /nodes shows of cordons, drains and benches', () => {
  const clock = { now: 1000 };
  let controls: NodeControl[] = [];
  const view = new NodeControlsView({ controls: { all: () => Promise.resolve(controls) }, settleMs: 500, now: () => clock.now });

  it('shows an untouched Ki as active under its own id', async () => {
    controls = [];
    await view.refresh();
    assert.deepEqual(view.fieldsOf(member('ki1')), { stableId: 'ki1', state: 'active', drained: false, benched: false });
  });

  it('shows a cordon with its reason and author under the stable id', async () => {
    controls = [control('ki-3', { state: 'cordoned', reason: 'disk', changedBy: 'alice' })];
    await view.refresh();
    const f = view.fieldsOf(member('pod-x', { stableId: 'ki-3' }));
    assert.deepEqual([f.stableId, f.state, f.stateReason, f.stateChangedBy, f.drained], ['ki-3', 'cordoned', 'disk', 'alice', false]);
  });

  it('calls a draining Ki drained only once it reports nothing running after the settle time', async () => {
    controls = [control('ki1', { state: 'draining' })];
    clock.now = 10_000;
    await view.refresh();
    assert.equal(view.fieldsOf(member('ki1', { slots: { total: 2, busy: 0 } }, 10_100)).drained, false, 'an An may not have read the drain yet');
    assert.equal(view.fieldsOf(member('ki1', { slots: { total: 2, busy: 1 } }, 10_600)).drained, false, 'still running a task');
    assert.equal(view.fieldsOf(member('ki1', { slots: { total: 2, busy: 0 } }, 10_600)).drained, true);
    clock.now = 20_000;
    await view.refresh();
    assert.equal(view.fieldsOf(member('ki1', {}, 10_600)).drained, true, 'a later read keeps the first time the drain was seen');
  });

  it('takes a Ki\'s own drain (SIGTERM) from its heartbeat', async () => {
    controls = [];
    await view.refresh();
    assert.deepEqual([view.fieldsOf(member('ki1', { state: 'draining' })).state, view.fieldsOf(member('ki1', { state: 'draining' })).drained], ['draining', false]);
    assert.equal(view.fieldsOf(member('ki1', { state: 'drained' })).drained, true);
  });

  it('shows a bench that holds with its end and reason', async () => {
    controls = [control('ki1', { benched: true, benchedUntil: new Date(5000), benchReason: '3 attempts in a row ended in TIMEOUT, TIMEOUT, TIMEOUT' })];
    await view.refresh();
    const f = view.fieldsOf(member('ki1'));
    assert.deepEqual([f.state, f.benched, f.benchedUntil, f.benchReason], ['active', true, new Date(5000).toISOString(), '3 attempts in a row ended in TIMEOUT, TIMEOUT, TIMEOUT']);
  });
});
