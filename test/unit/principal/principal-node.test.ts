import { strict as assert } from 'node:assert';
import type { Service } from '../../../src/lifecycle/service';
import { ScheduleRepository } from '../../../src/store';
import { PrincipalNode } from '../../../src/principal/principal-node';
import type { PrincipalRestServer } from '../../../src/principal/rest-server';
import { heartbeatRoute, taskEventRoute } from '../../../src/protocol/destinations';
import type { TaskEvent } from '../../../src/protocol/messages';
import { coordinatorThenRest } from '../../../src/roles/principal-role';
import { heartbeat, PrincipalHarness, until } from './principal-harness';

describe('PrincipalNode', () => {
  let h: PrincipalHarness;
  let node: PrincipalNode;

  beforeEach(async () => {
    h = new PrincipalHarness();
    await h.start();
    node = new PrincipalNode({ nodeId: 'p1', config: h.config, bus: h.bus('p1', 'principal', h.metrics), names: h.names, repo: h.repo, schedules: new ScheduleRepository(h.db, h.repo), workflows: h.workflows, log: h.log, metrics: h.metrics, leadership: h.leadership });
  });
  afterEach(async () => {
    await node.stop();
    await h.stop();
  });

  it('adds a node to its membership from the heartbeat the node sent as itself', async () => {
    await node.start();
    const ki = h.bus('ki-1', 'ki');
    await ki.send(heartbeatRoute(h.names, 'ki', 'ki-1'), 'node.heartbeat', heartbeat('ki-1'));
    await until(() => node.membership.get('ki', 'ki-1')?.status, (s) => s === 'alive', 'ki-1 in the membership');
  });

  it('releases the admission slot of a finished task and tells its listeners', async () => {
    await node.start();
    const task = node.admission.build({ type: 'echo' }, 'alice');
    await node.admission.submit([task]);
    assert.equal(node.admission.map.size, 1);
    const heard: TaskEvent[] = [];
    node.onTaskEvent((e) => heard.push(e));
    const an = h.bus('an-1', 'an');
    const event: TaskEvent = { taskId: task.id, status: 'succeeded', owner: 'alice', attempts: 1, finishedAtMs: Date.now() };
    await an.send(taskEventRoute(h.names, 'finished'), 'task.event', { v: 1, events: [event] });
    await until(() => heard.length, (n) => n === 1, 'the task event');
    assert.deepEqual(heard[0], event);
    assert.equal(node.admission.map.size, 0);
  });

  it('describes itself as alive with its leadership, and as leaving once told so', () => {
    const hb = node.describe();
    assert.equal(hb.role, 'principal');
    assert.equal(hb.status, 'alive');
    assert.equal(hb.leader, true);
    node.markLeaving();
    assert.equal(node.describe().status, 'leaving');
  });
});

describe('the principal service (coordinator and REST server)', () => {
  it('starts the coordinator before the REST server, and on stop says leaving, closes the REST server, then stops the coordinator', async () => {
    const steps: string[] = [];
    const principal = {
      name: 'principal', start: () => { steps.push('node start'); return Promise.resolve(); }, stop: () => { steps.push('node stop'); return Promise.resolve(); },
      markLeaving: () => { steps.push('leaving'); },
    } as unknown as PrincipalNode;
    const rest = { start: () => { steps.push('rest start'); return Promise.resolve(); }, stop: () => { steps.push('rest stop'); return Promise.resolve(); } } as unknown as PrincipalRestServer;
    const service: Service = coordinatorThenRest(principal, rest);
    assert.equal(service.name, 'principal');
    await service.start();
    await service.stop();
    assert.deepEqual(steps, ['node start', 'rest start', 'leaving', 'rest stop', 'node stop']);
  });
});
