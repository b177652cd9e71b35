import { strict as assert } from 'node:assert';
import { MESSAGE_TYPES } from '../../../src/protocol/messages';
import { CLIENT_ROLES, maySend, rightsOf, SENDERS } from '../../../src/security/permissions';

describe('rightsOf', () => {
  it('gives a viewer read access to its own tasks only', () => {
    assert.deepEqual(rightsOf(['viewer']), { readTasks: 'own', writeTasks: 'none', readNodes: false, manageNodes: false, operateNodes: false });
  });

  it('gives a submitter read and write access to its own tasks', () => {
    assert.deepEqual(rightsOf(['submitter']), { readTasks: 'own', writeTasks: 'own', readNodes: false, manageNodes: false, operateNodes: false });
  });

  it('gives an operator every task, the node list and cordon/drain, but not quarantine release', () => {
    assert.deepEqual(rightsOf(['operator']), { readTasks: 'all', writeTasks: 'all', readNodes: true, manageNodes: false, operateNodes: true });
  });

  it('gives an admin everything', () => {
    assert.deepEqual(rightsOf(['admin']), { readTasks: 'all', writeTasks: 'all', readNodes: true, manageNodes: true, operateNodes: true });
  });

  it('gives nothing to a caller without roles', () => {
    assert.deepEqual(rightsOf([]), { readTasks: 'none', writeTasks: 'none', readNodes: false, manageNodes: false, operateNodes: false });
  });

  it('takes the widest right of each kind across several roles, in any order', () => {
    assert.deepEqual(rightsOf(['viewer', 'submitter']), rightsOf(['submitter']));
    assert.deepEqual(rightsOf(['submitter', 'viewer']), rightsOf(['submitter']));
    assert.deepEqual(rightsOf(['viewer', 'operator']), rightsOf(['operator']));
    assert.deepEqual(rightsOf(['admin', 'viewer']), rightsOf(['admin']));
    assert.deepEqual(rightsOf([...CLIENT_ROLES]), rightsOf(['admin']));
  });

  it('returns a fresh object each time, so a caller cannot change the table', () => {
    const r = rightsOf(['viewer']);
    r.writeTasks = 'all';
    assert.equal(rightsOf(['viewer']).writeTasks, 'none');
  });
});

describe('maySend', () => {
  it('lets a Ki report results but not publish pending work or assignments', () => {
    assert.equal(maySend('ki', 'task.result'), true);
    assert.equal(maySend('ki', 'task.started'), true);
    assert.equal(maySend('ki', 'task.pending'), false);
    assert.equal(maySend('ki', 'task.assign'), false);
    assert.equal(maySend('ki', 'node.assign'), false);
    assert.equal(maySend('ki', 'election.tick'), false);
  });

  it('lets only a principal tell a Ki to load or unload models', () => {
    assert.equal(maySend('principal', 'model.command'), true);
    for (const role of ['an', 'ki'] as const) assert.equal(maySend(role, 'model.command'), false, role);
  });

  it('lets only principals take part in the election', () => {
    assert.equal(maySend('principal', 'election.tick'), true);
    assert.equal(maySend('an', 'election.tick'), false);
  });

  it('lets every node role heartbeat and refuses unknown roles everything', () => {
    for (const role of ['principal', 'an', 'ki', 'standalone']) assert.equal(maySend(role, 'node.heartbeat'), true);
    for (const type of MESSAGE_TYPES) assert.equal(maySend('admin', type), false);
  });

  it('has a sender list for every message type, and standalone may send each but the join (it signs its own token)', () => {
    for (const type of MESSAGE_TYPES) {
      assert.ok(SENDERS[type].length > 0, type);
      assert.equal(maySend('standalone', type), type !== 'node.join', type);
    }
  });

  it('lets only an An or a Ki join, and only a principal answer a join', () => {
    assert.deepEqual([...SENDERS['node.join']].sort(), ['an', 'ki']);
    assert.equal(maySend('ki', 'node.identity'), false);
    assert.equal(maySend('an', 'node.identity'), false);
    assert.equal(maySend('principal', 'node.identity'), true);
  });
});
