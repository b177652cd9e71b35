import { strict as assert } from 'node:assert';
import { PublishFailedError } from '../../../src/errors';
import { topologyNames } from '../../../src/protocol/names';
import type { WireMessage } from '../../../src/security/envelope';
import { InProcessTransport } from '../../../src/transport/in-process-transport';
import type { Delivery, TransportStatus } from '../../../src/transport/types';

const names = topologyNames('unit');

const wire = (id: string): WireMessage => ({ id, type: 'test', sender: 'tester', timestampMs: Date.now(), kid: 'k1', body: Buffer.from(id) });

/** Deliveries a consumer received, with a way to wait until there are `n` of them. */
class Inbox {
  readonly got: Delivery[] = [];
  #waiters: { n: number; resolve: () => void }[] = [];
  readonly handler = (d: Delivery) => {
    this.got.push(d);
    this.#waiters = this.#waiters.filter((w) => (this.got.length >= w.n ? (w.resolve(), false) : true));
  };
  ids(): string[] {
    return this.got.map((d) => d.message.id);
  }
  waitFor(n: number, timeoutMs = 2000): Promise<void> {
    if (this.got.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`expected ${n} deliveries, got ${this.got.length}: ${this.ids().join(',')}`)), timeoutMs);
      this.#waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }
}

/** Lets pending delivery rounds run (they run on setImmediate), to show that nothing more arrives. */
const settle = async (turns = 5) => { for (let n = 0; n < turns; n++) await new Promise((r) => setImmediate(r)); };

describe('InProcessTransport', () => {
  let t: InProcessTransport;
  beforeEach(async () => {
    t = new InProcessTransport({ names });
    await t.start();
  });
  afterEach(() => t.stop());

  describe('connection state', () => {
    it('reports connected on start and not after stop', async () => {
      const fresh = new InProcessTransport({ names });
      const seen: TransportStatus[] = [];
      fresh.onStatus((s) => seen.push(s));
      assert.equal(fresh.connected, false);
      await fresh.start();
      assert.equal(fresh.connected, true);
      assert.deepEqual(seen, [{ type: 'connected', reconnect: false }]);
      await fresh.stop();
      assert.equal(fresh.connected, false);
    });

    it('refuses a publish after stop with PublishFailedError', async () => {
      await t.stop();
      await assert.rejects(t.publish({ queue: names.pendingFor(5) }, wire('m')), PublishFailedError);
    });

    it('holds messages published before start until it starts', async () => {
      const fresh = new InProcessTransport({ names });
      const inbox = new Inbox();
      await fresh.consume({ name: 'early', kind: 'durable' }, 10, inbox.handler);
      await fresh.publish({ queue: 'early' }, wire('m1'));
      await settle();
      assert.equal(inbox.got.length, 0);
      await fresh.start();
      await inbox.waitFor(1);
      await fresh.stop();
    });
  });

  describe('queues and exchanges', () => {
    it('delivers a message published to a queue, asynchronously and never inside publish', async () => {
      const inbox = new Inbox();
      await t.consume({ name: 'q1', kind: 'durable' }, 10, inbox.handler);
      await t.publish({ queue: 'q1' }, wire('m1'));
      assert.equal(inbox.got.length, 0, 'publish resolved before any delivery');
      await inbox.waitFor(1);
      assert.equal(inbox.got[0]!.message.id, 'm1');
      assert.equal(inbox.got[0]!.message.body.toString(), 'm1');
      assert.equal(inbox.got[0]!.redelivered, false);
    });

    it('drops a message for an undeclared queue and still confirms it, as the default exchange does', async () => {
      await t.publish({ queue: 'nobody' }, wire('m1'));
      assert.equal(await t.queueDepth('nobody'), 0);
    });

    it('routes through topic bindings given at consume, once per queue', async () => {
      const principal = new Inbox();
      const ki = new Inbox();
      await t.consume({ name: 'p', kind: 'transient', bindings: [{ exchange: names.control, pattern: 'heartbeat.#' }, { exchange: names.control, pattern: 'heartbeat.ki.*' }] }, 10, principal.handler);
      await t.consume({ name: 'k', kind: 'transient', bindings: [{ exchange: names.control, pattern: names.rk.cancel('k1') }] }, 10, ki.handler);
      await t.publish({ exchange: names.control, routingKey: names.rk.heartbeat('ki', 'k1') }, wire('hb'));
      await t.publish({ exchange: names.control, routingKey: names.rk.cancel('k1') }, wire('cancel'));
      await t.publish({ exchange: names.control, routingKey: names.rk.cancel('k2') }, wire('other'));
      await principal.waitFor(1);
      await ki.waitFor(1);
      await settle();
      assert.deepEqual(principal.ids(), ['hb'], 'two matching bindings deliver once');
      assert.deepEqual(ki.ids(), ['cancel']);
    });

    it('refuses a publish to an exchange that was never declared', async () => {
      await assert.rejects(t.publish({ exchange: 'nope', routingKey: 'x' }, wire('m')), PublishFailedError);
    });

    it('declares the pending bands and the dead-letter queue on construction', async () => {
      await t.publish({ queue: names.pendingFor(9) }, wire('m'));
      assert.equal(await t.queueDepth(names.pendingFor(9)), 1);
      assert.equal(await t.queueDepth(names.deadLetterQueue), 0);
    });

    it('counts ready messages only in queueDepth', async () => {
      const q = names.pendingFor(5);
      for (let n = 0; n < 3; n++) await t.publish({ queue: q }, wire(`m${n}`));
      assert.equal(await t.queueDepth(q), 3);
      const inbox = new Inbox();
      await t.consume({ name: q, kind: 'quorum' }, 1, inbox.handler);
      await inbox.waitFor(1);
      assert.equal(await t.queueDepth(q), 2, 'the unacked one is not ready');
      assert.equal(await t.queueDepth('unknown'), 0);
    });

    it('deletes a queue with its messages and bindings', async () => {
      await t.consume({ name: 'gone', kind: 'durable', bindings: [{ exchange: names.control, pattern: 'x.#' }] }, 0, () => undefined);
      await t.publish({ queue: 'gone' }, wire('m'));
      assert.equal(await t.queueDepth('gone'), 1);
      await t.deleteQueue('gone');
      assert.equal(await t.queueDepth('gone'), 0);
      await t.publish({ exchange: names.control, routingKey: 'x.y' }, wire('m2'));
      assert.equal(await t.queueDepth('gone'), 0, 'the binding went with the queue');
    });

    it('refuses a publish beyond the queue cap and accepts again once there is room', async () => {
      const small = new InProcessTransport({ names, maxQueueLength: 2 });
      await small.start();
      await small.publish({ queue: names.pendingFor(0) }, wire('a'));
      await small.publish({ queue: names.pendingFor(0) }, wire('b'));
      await assert.rejects(small.publish({ queue: names.pendingFor(0) }, wire('c')), PublishFailedError);
      const inbox = new Inbox();
      await small.consume({ name: names.pendingFor(0), kind: 'quorum' }, 1, inbox.handler);
      await inbox.waitFor(1);
      await small.publish({ queue: names.pendingFor(0) }, wire('c'));
      await small.stop();
    });

    it('drops a message whose expiration passed before it was delivered', async () => {
      await t.publish({ queue: names.pendingFor(5) }, wire('old'), { expirationMs: 1 });
      await t.publish({ queue: names.pendingFor(5) }, wire('fresh'), { expirationMs: 60_000 });
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await t.queueDepth(names.pendingFor(5)), 1);
      const inbox = new Inbox();
      await t.consume({ name: names.pendingFor(5), kind: 'quorum' }, 10, inbox.handler);
      await inbox.waitFor(1);
      assert.deepEqual(inbox.ids(), ['fresh']);
    });
  });

  describe('prefetch and settling', () => {
    it('holds at most prefetch unacked deliveries and sends more as they are acked', async () => {
      const inbox = new Inbox();
      await t.consume({ name: 'w', kind: 'durable' }, 2, inbox.handler);
      for (let n = 0; n < 5; n++) await t.publish({ queue: 'w' }, wire(`m${n}`));
      await inbox.waitFor(2);
      await settle();
      assert.deepEqual(inbox.ids(), ['m0', 'm1']);
      inbox.got[0]!.ack();
      await inbox.waitFor(3);
      await settle();
      assert.deepEqual(inbox.ids(), ['m0', 'm1', 'm2']);
    });

    it('delivers nothing with prefetch 0 and resumes when setPrefetch raises it', async () => {
      const inbox = new Inbox();
      const h = await t.consume({ name: 'paused', kind: 'quorum' }, 0, inbox.handler);
      for (let n = 0; n < 3; n++) await t.publish({ queue: 'paused' }, wire(`m${n}`));
      await settle();
      assert.equal(inbox.got.length, 0);
      await h.setPrefetch(3);
      await inbox.waitFor(3);
      await h.setPrefetch(0);
      inbox.got.forEach((d) => d.ack());
      await t.publish({ queue: 'paused' }, wire('m3'));
      await settle();
      assert.equal(inbox.got.length, 3, 'paused again: acks do not pull more');
      assert.equal(await t.queueDepth('paused'), 1);
    });

    it('lets a paused consumer still ack what it holds', async () => {
      const inbox = new Inbox();
      const h = await t.consume({ name: 'hold', kind: 'quorum' }, 1, inbox.handler);
      await t.publish({ queue: 'hold' }, wire('m0'));
      await inbox.waitFor(1);
      await h.setPrefetch(0);
      inbox.got[0]!.ack();
      await h.setPrefetch(1);
      await t.publish({ queue: 'hold' }, wire('m1'));
      await inbox.waitFor(2);
      assert.equal(inbox.got[1]!.redelivered, false);
    });

    it('requeues to the head of the queue and redelivers with redelivered set', async () => {
      const inbox = new Inbox();
      await t.consume({ name: 'rq', kind: 'durable' }, 1, inbox.handler);
      await t.publish({ queue: 'rq' }, wire('m0'));
      await t.publish({ queue: 'rq' }, wire('m1'));
      await inbox.waitFor(1);
      inbox.got[0]!.requeue();
      await inbox.waitFor(2);
      assert.deepEqual(inbox.ids(), ['m0', 'm0']);
      assert.equal(inbox.got[1]!.redelivered, true);
      inbox.got[1]!.ack();
      await inbox.waitFor(3);
      assert.equal(inbox.got[2]!.message.id, 'm1');
      assert.equal(inbox.got[2]!.redelivered, false);
    });

    it('sends a rejected message to the dead-letter queue', async () => {
      const inbox = new Inbox();
      await t.consume({ name: 'rj', kind: 'durable' }, 1, inbox.handler);
      await t.publish({ queue: 'rj' }, wire('bad'));
      await inbox.waitFor(1);
      inbox.got[0]!.reject();
      assert.equal(await t.queueDepth(names.deadLetterQueue), 1);
      assert.equal(await t.queueDepth('rj'), 0);
      const dead = new Inbox();
      await t.consume({ name: names.deadLetterQueue, kind: 'quorum' }, 1, dead.handler);
      await dead.waitFor(1);
      assert.equal(dead.got[0]!.message.id, 'bad');
    });

    it('keeps only the newest dead letters beyond maxDeadLetters', async () => {
      const small = new InProcessTransport({ names, maxDeadLetters: 2 });
      await small.start();
      const inbox = new Inbox();
      await small.consume({ name: 'rj', kind: 'durable' }, 10, (d) => { inbox.handler(d); d.reject(); });
      for (let n = 0; n < 4; n++) await small.publish({ queue: 'rj' }, wire(`bad${n}`));
      await inbox.waitFor(4);
      assert.equal(await small.queueDepth(names.deadLetterQueue), 2);
      const dead = new Inbox();
      await small.consume({ name: names.deadLetterQueue, kind: 'quorum' }, 10, dead.handler);
      await dead.waitFor(2);
      assert.deepEqual(dead.ids(), ['bad2', 'bad3']);
      await small.stop();
    });

    it('keeps only the newest dead letters also when they are published to the dead-letter exchange, in both dead-letter queues', async () => {
      const small = new InProcessTransport({ names, maxDeadLetters: 2 });
      await small.start();
      // A failed task's note is published straight to the exchange; a refused pending message's
      // routing key also reaches the dead-pending queue.
      for (let n = 0; n < 4; n++) await small.publish({ exchange: names.deadLetterExchange, routingKey: `${names.pending}.high` }, wire(`note${n}`));
      assert.equal(await small.queueDepth(names.deadLetterQueue), 2);
      assert.equal(await small.queueDepth(names.deadPending), 2);
      const dead = new Inbox();
      await small.consume({ name: names.deadLetterQueue, kind: 'quorum' }, 10, dead.handler);
      await dead.waitFor(2);
      assert.deepEqual(dead.ids(), ['note2', 'note3']);
      await small.stop();
    });

    it('treats a second settle of the same delivery as a no-op', async () => {
      const inbox = new Inbox();
      await t.consume({ name: 'twice', kind: 'durable' }, 5, inbox.handler);
      await t.publish({ queue: 'twice' }, wire('m'));
      await inbox.waitFor(1);
      const d = inbox.got[0]!;
      d.ack();
      d.requeue();
      d.reject();
      d.ack();
      await settle();
      assert.equal(inbox.got.length, 1, 'not requeued after the ack');
      assert.equal(await t.queueDepth(names.deadLetterQueue), 0, 'not dead-lettered after the ack');
    });

    it('settles from inside a handler without delivering re-entrantly', async () => {
      let depth = 0;
      let maxDepth = 0;
      let count = 0;
      const done = new Promise<void>((resolve) => {
        void t.consume({ name: 'sync', kind: 'durable' }, 1, (d) => {
          depth++;
          maxDepth = Math.max(maxDepth, depth);
          d.ack();
          if (++count === 3) resolve();
          depth--;
        });
      });
      for (let n = 0; n < 3; n++) await t.publish({ queue: 'sync' }, wire(`m${n}`));
      await done;
      assert.equal(maxDepth, 1);
    });

    it('requeues the delivery when a handler throws', async () => {
      let calls = 0;
      const redelivered: boolean[] = [];
      const done = new Promise<void>((resolve) => {
        void t.consume({ name: 'throws', kind: 'durable' }, 1, (d) => {
          redelivered.push(d.redelivered);
          if (++calls === 1) throw new Error('handler bug');
          d.ack();
          resolve();
        });
      });
      await t.publish({ queue: 'throws' }, wire('m'));
      await done;
      assert.deepEqual(redelivered, [false, true]);
    });
  });

  describe('several consumers', () => {
    it('shares a queue round-robin', async () => {
      const a = new Inbox();
      const b = new Inbox();
      await t.consume({ name: 'rr', kind: 'quorum' }, 10, a.handler);
      await t.consume({ name: 'rr', kind: 'quorum' }, 10, b.handler);
      for (let n = 0; n < 6; n++) await t.publish({ queue: 'rr' }, wire(`m${n}`));
      await a.waitFor(3);
      await b.waitFor(3);
      assert.deepEqual(a.ids(), ['m0', 'm2', 'm4']);
      assert.deepEqual(b.ids(), ['m1', 'm3', 'm5']);
    });

    it('skips a consumer whose prefetch is full', async () => {
      const a = new Inbox();
      const b = new Inbox();
      await t.consume({ name: 'rr2', kind: 'quorum' }, 1, a.handler);
      await t.consume({ name: 'rr2', kind: 'quorum' }, 10, b.handler);
      for (let n = 0; n < 4; n++) await t.publish({ queue: 'rr2' }, wire(`m${n}`));
      await b.waitFor(3);
      assert.deepEqual(a.ids(), ['m0']);
      assert.deepEqual(b.ids(), ['m1', 'm2', 'm3']);
    });

    it('gives a single-active queue to the first consumer only, and to the next when it cancels', async () => {
      const first = new Inbox();
      const second = new Inbox();
      const h1 = await t.consume({ name: names.election, kind: 'single-active' }, 10, first.handler);
      await t.consume({ name: names.election, kind: 'single-active' }, 10, second.handler);
      for (let n = 0; n < 3; n++) await t.publish({ queue: names.election }, wire(`tick${n}`));
      await first.waitFor(3);
      await settle();
      assert.equal(second.got.length, 0);
      first.got[0]!.ack();
      await h1.cancel();
      // The two unacked ticks go back to the queue and on to the new active consumer.
      await second.waitFor(2);
      assert.deepEqual(second.ids(), ['tick1', 'tick2']);
      assert.ok(second.got.every((d) => d.redelivered));
      first.got[1]!.ack(); // from a cancelled consumer: a no-op
      await t.publish({ queue: names.election }, wire('tick3'));
      await second.waitFor(3);
      assert.equal(first.got.length, 3);
    });

    it('requeues what a cancelled consumer held, and its later settles do nothing', async () => {
      const a = new Inbox();
      const h = await t.consume({ name: 'c', kind: 'durable' }, 5, a.handler);
      await t.publish({ queue: 'c' }, wire('m0'));
      await a.waitFor(1);
      await h.cancel();
      assert.equal(await t.queueDepth('c'), 1);
      a.got[0]!.reject();
      assert.equal(await t.queueDepth(names.deadLetterQueue), 0);
      const b = new Inbox();
      await t.consume({ name: 'c', kind: 'durable' }, 5, b.handler);
      await b.waitFor(1);
      assert.equal(b.got[0]!.redelivered, true);
    });
  });

  describe('transient queues', () => {
    it('removes a transient queue and its bindings when its consumer cancels', async () => {
      const h = await t.consume({ name: 'tq', kind: 'transient', bindings: [{ exchange: names.control, pattern: 'event.task.*' }] }, 0, () => undefined);
      await t.publish({ exchange: names.control, routingKey: names.rk.event('succeeded') }, wire('e1'));
      assert.equal(await t.queueDepth('tq'), 1);
      await h.cancel();
      assert.equal(await t.queueDepth('tq'), 0);
      await t.publish({ exchange: names.control, routingKey: names.rk.event('succeeded') }, wire('e2'));
      assert.equal(await t.queueDepth('tq'), 0);
    });

    it('keeps a durable queue when its consumer cancels', async () => {
      const h = await t.consume({ name: 'dq', kind: 'durable' }, 0, () => undefined);
      await t.publish({ queue: 'dq' }, wire('m'));
      await h.cancel();
      assert.equal(await t.queueDepth('dq'), 1);
    });

    it('drops transient queues on stop', async () => {
      await t.consume({ name: 'tq2', kind: 'transient', bindings: [{ exchange: names.control, pattern: '#' }] }, 0, () => undefined);
      await t.publish({ exchange: names.control, routingKey: 'a.b' }, wire('m'));
      assert.equal(await t.queueDepth('tq2'), 1);
      await t.stop();
      assert.equal(await t.queueDepth('tq2'), 0);
    });
  });

  it('stops delivering after stop, and settling afterwards is a no-op', async () => {
    const inbox = new Inbox();
    await t.consume({ name: 's', kind: 'durable' }, 1, inbox.handler);
    await t.publish({ queue: 's' }, wire('m0'));
    await t.publish({ queue: 's' }, wire('m1'));
    await inbox.waitFor(1);
    await t.stop();
    inbox.got[0]!.ack();
    await settle();
    assert.equal(inbox.got.length, 1);
  });

  it('moves a large backlog without blocking the event loop for the whole of it', async () => {
    const q = names.pendingFor(5);
    for (let n = 0; n < 5000; n++) await t.publish({ queue: q }, wire(`m${n}`));
    let timerRan = false;
    let receivedWhenTimerRan = -1;
    let received = 0;
    const all = new Promise<void>((resolve) => {
      void t.consume({ name: q, kind: 'quorum' }, 10_000, (d) => {
        d.ack();
        if (++received === 5000) resolve();
      });
    });
    setImmediate(() => setImmediate(() => { timerRan = true; receivedWhenTimerRan = received; }));
    await all;
    assert.ok(timerRan);
    assert.ok(receivedWhenTimerRan < 5000, `other callbacks ran between rounds (${receivedWhenTimerRan})`);
  });
});
