import { strict as assert } from 'node:assert';
import { describeDeadLetter } from '../../../src/principal/dead-letter-intake';
import { deathOf } from '../../../src/transport/amqp-wire';
import type { WireMessage } from '../../../src/protocol';
import { queuedTaskRecord } from '../../helpers/task-record';

const wire = (over: Partial<WireMessage> = {}): WireMessage => ({ id: 'm-1', type: 'task.failed', sender: 'an1', timestampMs: 1, kid: 'k1', body: Buffer.from('sealed'), ...over });

describe('dead letters: what is stored of one', () => {
  it('stores a failed task\'s note as its task, with the reason the store gives', () => {
    const task = queuedTaskRecord({ status: 'failed', attempts: 2, error: { code: 'TIMEOUT', message: 'ran past 1000 ms', retryable: false } });
    const d = describeDeadLetter({ message: wire({ taskIds: [task.id] }) }, task);
    assert.equal(d.dedupKey, `task:${task.id}`);
    assert.equal(d.taskId, task.id);
    assert.deepEqual([d.reason, d.errorCode, d.errorMessage, d.attempts], ['failed', 'TIMEOUT', 'ran past 1000 ms', 2]);
  });

  it('keeps a note that names no failed task as a message, not re-drivable, its claim marked unverified', () => {
    const claimed = '0b7f6a5e-1c2d-4e3f-8a9b-0c1d2e3f4a5b';
    const d = describeDeadLetter({ message: wire({ taskIds: [claimed] }) }, undefined);
    assert.equal(d.taskId, null);
    assert.deepEqual(d.claimedTaskIds, [claimed]);
    assert.equal(d.reason, 'unverified');
    assert.equal(d.dedupKey, 'message:m-1');
  });

  it('cleans what a hostile sender wrote in clear and never keeps the body', () => {
    const d = describeDeadLetter({
      message: wire({ id: '', type: 'x\u0000y'.repeat(100), sender: 'evil\u0000\n', taskIds: ['not-a-uuid', "'; DROP TABLE tasks; --"], body: Buffer.alloc(1000, 7) }),
      death: { reason: 'rejected\u0000', queue: 'anki.inbox.ki.k1', count: 3 },
    }, undefined);
    assert.equal(d.messageType.length <= 64 && !d.messageType.includes('\u0000'), true);
    assert.equal(d.sender, 'evil');
    assert.equal(d.claimedTaskIds, null, 'only ids that are UUIDs are kept');
    assert.equal(d.reason, 'rejected');
    assert.equal(d.sourceQueue, 'anki.inbox.ki.k1');
    assert.equal(d.bodyBytes, 1000);
    assert.match(d.dedupKey, /^body:[0-9a-f]{64}$/, 'a message without id is keyed by its body\'s hash');
    assert.equal(Object.values(d).some((v) => Buffer.isBuffer(v)), false);
  });
});

describe('deathOf: how the broker dead-lettered a message', () => {
  it('reads the newest x-death entry', () => {
    const d = deathOf({ properties: { headers: { 'x-death': [{ reason: 'rejected', queue: 'q1', count: 2 }, { reason: 'expired', queue: 'q0', count: 1 }] } } } as never);
    assert.deepEqual(d, { reason: 'rejected', queue: 'q1', count: 2 });
  });

  it('falls back to x-first-death headers, and is absent for a message never dead-lettered', () => {
    assert.deepEqual(deathOf({ properties: { headers: { 'x-first-death-reason': 'maxlen', 'x-first-death-queue': 'q' } } } as never), { reason: 'maxlen', queue: 'q', count: 1 });
    assert.equal(deathOf({ properties: { headers: {} } } as never), undefined);
    assert.deepEqual(deathOf({ properties: { headers: { 'x-death': [{ reason: 42, count: 'many' }] } } } as never), { reason: '', queue: '', count: 1 }, 'malformed, never a throw');
  });
});
