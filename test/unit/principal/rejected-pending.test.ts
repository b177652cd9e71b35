import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { RejectedPendingWatcher } from '../../../src/principal/rejected-pending';
import type { TaskRepository } from '../../../src/store';
import type { WireMessage } from '../../../src/security/envelope';
import type { Delivery, Transport } from '../../../src/transport';
import { PrincipalHarness, queuedTask, until } from './principal-harness';

/** A dead-lettered delivery that records what was done with it. */
function deadLetter(taskIds: string[] | undefined): Delivery & { outcome?: string } {
  const d: Delivery & { outcome?: string } = {
    message: { sender: 'an-1', kid: 'k1', ...(taskIds ? { taskIds } : {}) } as unknown as WireMessage,
    redelivered: false,
    ack: () => { d.outcome = 'ack'; },
    reject: () => { d.outcome = 'reject'; },
    requeue: () => { d.outcome = 'requeue'; },
  };
  return d;
}

/** A transport whose one consumer the test feeds by hand. */
function handFedTransport(): { transport: Transport; deliver: (d: Delivery) => void; queue: () => string | undefined } {
  let handler: ((d: Delivery) => void) | undefined;
  let queue: string | undefined;
  const transport = {
    consume: (spec: { name: string }, _prefetch: number, h: (d: Delivery) => void) => { handler = h; queue = spec.name; return Promise.resolve({ cancel: () => Promise.resolve(), setPrefetch: () => Promise.resolve() }); },
  } as unknown as Transport;
  return { transport, deliver: (d) => handler!(d), queue: () => queue };
}

describe('RejectedPendingWatcher', () => {
  let h: PrincipalHarness;
  beforeEach(async () => {
    h = new PrincipalHarness();
    await h.start();
  });
  afterEach(() => h.stop());

  it('marks the queued tasks of a refused pending message unpublished, so the sweep sends them again', async () => {
    const t = queuedTask();
    await h.repo.insertMany([t]);
    await h.repo.markPublished([{ id: t.id, attempts: t.attempts }]);
    const fed = handFedTransport();
    const watcher = new RejectedPendingWatcher({ transport: fed.transport, names: h.names, repo: h.repo, log: h.log });
    await watcher.start();
    assert.equal(fed.queue(), h.names.deadPending);
    const d = deadLetter([t.id, 'not-a-uuid']);
    fed.deliver(d);
    await until(() => d.outcome, (o) => o === 'ack', 'the ack');
    assert.ok((await h.repo.findUnpublished(0, 10)).some((u) => u.id === t.id));
    await watcher.stop();
  });

  it('acks a message without task ids and touches nothing', async () => {
    const fed = handFedTransport();
    await new RejectedPendingWatcher({ transport: fed.transport, names: h.names, repo: h.repo, log: h.log }).start();
    const d = deadLetter(undefined);
    fed.deliver(d);
    assert.equal(d.outcome, 'ack');
  });

  it('puts the message back after the configured wait when the store fails', async () => {
    const fed = handFedTransport();
    const failing = { markUnpublished: () => Promise.reject(new Error('db down')) } as unknown as TaskRepository;
    await new RejectedPendingWatcher({ transport: fed.transport, names: h.names, repo: failing, log: h.log, retryAfterDbErrorMs: 10 }).start();
    const d = deadLetter([randomUUID()]);
    fed.deliver(d);
    await until(() => d.outcome, (o) => o === 'requeue', 'the requeue');
  });
});
