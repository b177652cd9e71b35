import { strict as assert } from 'node:assert';
import type { WireMessage } from '../../../src/security/envelope';
import { InProcessQueue, type QueueHost, type QueuedMessage } from '../../../src/transport/in-process-queue';
import type { Delivery } from '../../../src/transport/types';

const wire = (id: string): WireMessage => ({ id, type: 'test', sender: 'tester', timestampMs: Date.now(), kid: 'k1', body: Buffer.from(id) });
const queued = (id: string, expiresAtMs?: number): QueuedMessage => ({ wire: wire(id), routingKey: `rk.${id}`, expiresAtMs, redelivered: false });

/** A host the test drives by hand: it records dead letters and says whether delivery is on. */
class FakeHost implements QueueHost {
  delivering = true;
  stopped = false;
  deliveriesPerTurn = 1000;
  readonly deadLetters: QueuedMessage[] = [];
  isDelivering(): boolean { return this.delivering; }
  isStopped(): boolean { return this.stopped; }
  deadLetter(message: QueuedMessage): void { this.deadLetters.push(message); }
}

/** Lets pending delivery rounds run (they run on setImmediate). */
const turns = async (n = 5) => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };

describe('InProcessQueue', () => {
  let host: FakeHost;
  let q: InProcessQueue;
  let got: Delivery[];
  const take = (d: Delivery) => { got.push(d); };
  beforeEach(() => {
    host = new FakeHost();
    q = new InProcessQueue('q', 'durable', host);
    got = [];
  });

  it('delivers nothing while its host is not delivering, and everything once a round is scheduled after', async () => {
    host.delivering = false;
    q.addConsumer(take, 10);
    q.enqueue(queued('a'));
    await turns();
    assert.equal(got.length, 0);
    host.delivering = true;
    q.schedule();
    await turns();
    assert.deepEqual(got.map((d) => d.message.id), ['a']);
  });

  it('hands a rejected delivery to the host for dead-lettering, with its routing key', async () => {
    q.addConsumer(take, 1);
    q.enqueue(queued('a'));
    await turns();
    got[0]!.reject();
    assert.deepEqual(host.deadLetters.map((m) => [m.wire.id, m.routingKey]), [['a', 'rk.a']]);
    assert.equal(q.length, 0);
  });

  it('ignores settles once the host stopped', async () => {
    q.addConsumer(take, 1);
    q.enqueue(queued('a'));
    await turns();
    host.stopped = true;
    got[0]!.reject();
    got[0]!.requeue();
    assert.equal(host.deadLetters.length, 0);
    assert.equal(q.length, 0);
  });

  it('drops the oldest to stay under the cap when enqueueing with drop-head, and keeps nothing with cap 0', () => {
    host.delivering = false;
    for (const id of ['a', 'b', 'c']) q.enqueueDroppingHead(queued(id), 2);
    assert.equal(q.length, 2);
    const zero = new InProcessQueue('z', 'durable', host);
    zero.enqueue(queued('old'));
    zero.enqueueDroppingHead(queued('new'), 0);
    assert.equal(zero.length, 0);
  });

  it('counts only unexpired ready messages', () => {
    host.delivering = false;
    q.enqueue(queued('gone', Date.now() - 1));
    q.enqueue(queued('kept', Date.now() + 60_000));
    assert.equal(q.length, 2);
    assert.equal(q.readyCount(), 1);
  });

  it('puts what a detached consumer held back at the head as redelivered, or drops it', async () => {
    const c = q.addConsumer(take, 2);
    for (const id of ['a', 'b', 'c']) q.enqueue(queued(id));
    await turns();
    assert.equal(got.length, 2);
    q.detach(c, 'requeue');
    assert.equal(q.consumerCount, 0);
    q.addConsumer(take, 10);
    await turns();
    assert.deepEqual(got.slice(2).map((d) => [d.message.id, d.redelivered]), [['a', true], ['b', true], ['c', false]]);

    const other = new InProcessQueue('o', 'durable', host);
    const held: Delivery[] = [];
    const oc = other.addConsumer((d) => held.push(d), 1);
    other.enqueue(queued('x'));
    await turns();
    other.detachAll('drop');
    assert.equal(oc.cancelled, true);
    assert.equal(other.length, 0);
    held[0]!.requeue();
    assert.equal(other.length, 0, 'a settle after detach does nothing');
  });

  it('takes and delivers nothing once deleted', async () => {
    q.addConsumer(take, 1);
    host.delivering = false;
    q.enqueue(queued('a'));
    q.markDeleted();
    assert.equal(q.deleted, true);
    assert.equal(q.length, 0);
    host.delivering = true;
    q.enqueue(queued('b'));
    await turns();
    assert.equal(got.length, 0);
  });
});
