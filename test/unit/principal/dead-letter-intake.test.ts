import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { DeadLetterIntake, describeDeadLetter } from '../../../src/principal/dead-letter-intake';
import { deathOf } from '../../../src/transport/amqp-wire';
import type { WireMessage } from '../../../src/protocol';
import { topologyNames } from '../../../src/protocol/names';
import { createMetrics } from '../../../src/observability/metrics';
import { silentLogger } from '../../../src/observability/logger';
import type { NewDeadLetter, TaskRecord } from '../../../src/store';
import type { Delivery, Transport } from '../../../src/transport';
import { queuedTaskRecord } from '../../helpers/task-record';
import { until } from '../an/an-harness';

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

/** A delivery that records how it was settled. */
function delivery(message: WireMessage): Delivery & { outcome?: string } {
  const d: Delivery & { outcome?: string } = {
    message, redelivered: false,
    ack: () => { d.outcome = 'ack'; }, reject: () => { d.outcome = 'reject'; }, requeue: () => { d.outcome = 'requeue'; },
  };
  return d;
}

describe('DeadLetterIntake: the dead-letter queue into the store, nothing lost', () => {
  const names = topologyNames('t');
  let handler: ((d: Delivery) => void) | undefined;
  let consumed: string | undefined;
  const transport = {
    consume: (spec: { name: string }, _p: number, h: (d: Delivery) => void) => { handler = h; consumed = spec.name; return Promise.resolve({ cancel: () => Promise.resolve(), setPrefetch: () => Promise.resolve() }); },
  } as unknown as Transport;

  const start = async (store: { record: (d: NewDeadLetter) => Promise<boolean>; trim?: (keep: number) => Promise<number>; count?: () => Promise<number> }, tasks: TaskRecord[] = [], over: { maxStored?: number; isLeader?: boolean } = {}) => {
    const metrics = createMetrics(new Registry(), 'principal');
    const intake = new DeadLetterIntake({
      transport, names, store: { trim: async () => 0, count: async () => 0, ...store }, getTask: async (id) => tasks.find((t) => t.id === id), maxStored: over.maxStored ?? 100_000,
      retryAfterDbErrorMs: 1, isLeader: () => over.isLeader ?? true, countIntervalMs: 60_000, metrics, log: silentLogger(),
    });
    await intake.start();
    return { intake, metrics };
  };

  it('consumes the dead-letter queue and acks a letter once it is stored', async () => {
    const stored: NewDeadLetter[] = [];
    const { intake } = await start({ record: async (d) => { stored.push(d); return true; } });
    assert.equal(consumed, names.deadLetterQueue);
    const d = delivery(wire({ type: 'task.result' }));
    handler!(d);
    await until(() => d.outcome, (o) => o !== undefined, 'settled');
    assert.equal(d.outcome, 'ack');
    assert.equal(stored.length, 1);
    await intake.stop();
  });

  it('gives a letter back while the store is away, and drops one the store refuses as data', async () => {
    const { intake, metrics } = await start({ record: async () => { throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }); } });
    const d = delivery(wire());
    handler!(d);
    await until(() => d.outcome, (o) => o !== undefined, 'settled');
    assert.equal(d.outcome, 'requeue', 'nothing is lost while the store is down');
    assert.equal((await metrics.dbErrors.get()).values[0]?.value, 1);
    await intake.stop();

    const refused = await start({ record: async () => { throw Object.assign(new Error('invalid byte sequence'), { code: '22021' }); } });
    const bad = delivery(wire());
    handler!(bad);
    await until(() => bad.outcome, (o) => o !== undefined, 'settled');
    assert.equal(bad.outcome, 'ack', 'a letter the store will always refuse does not loop');
    await refused.intake.stop();
  });

  it('confirms a failed task\'s note against the store', async () => {
    const failed = queuedTaskRecord({ status: 'failed', attempts: 1, error: { code: 'TIMEOUT', message: 't', retryable: false } });
    const stored: NewDeadLetter[] = [];
    const { intake } = await start({ record: async (d) => { stored.push(d); return true; } }, [failed]);
    const d = delivery(wire({ taskIds: [failed.id] }));
    handler!(d);
    await until(() => d.outcome, (o) => o !== undefined, 'settled');
    assert.equal(stored[0]?.taskId, failed.id);
    assert.equal(stored[0]?.reason, 'failed');
    await intake.stop();
  });

  it('stores the dead letter of a task the leader failed, once the store has it failed', async () => {
    const failed = queuedTaskRecord({ status: 'failed', attempts: 3, error: { code: 'LEASE_EXPIRED', message: 'lease expired', retryable: false } });
    const stored: NewDeadLetter[] = [];
    const { intake } = await start({ record: async (d) => { stored.push(d); return true; } }, [failed, queuedTaskRecord()]);
    intake.recordFailedTask(failed.id);
    await until(() => stored.length, (n) => n === 1, 'the letter stored');
    assert.deepEqual([stored[0]?.taskId, stored[0]?.errorCode, stored[0]?.attempts], [failed.id, 'LEASE_EXPIRED', 3]);
    await intake.stop();
  });

  it('trims the store to its bound and reports the leader\'s count (0 elsewhere)', async () => {
    let rows = 0;
    const trims: number[] = [];
    const store = { record: async () => { rows++; return true; }, trim: async (keep: number) => { trims.push(keep); const n = Math.max(0, rows - keep); rows -= n; return n; }, count: async () => rows };
    const { intake, metrics } = await start(store, [], { maxStored: 3 });
    for (let i = 0; i < 5; i++) {
      const d = delivery(wire({ id: `m${i}` }));
      handler!(d);
      await until(() => d.outcome, (o) => o !== undefined, 'settled');
    }
    assert.equal(rows, 3, 'the oldest beyond the bound went');
    await intake.reportCount();
    assert.equal((await metrics.deadLetters.get()).values[0]?.value, 3);
    await intake.stop();
    const follower = await start(store, [], { isLeader: false });
    await follower.intake.reportCount();
    assert.equal((await follower.metrics.deadLetters.get()).values[0]?.value, 0);
    await follower.intake.stop();
  });
});
