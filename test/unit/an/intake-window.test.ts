import { strict as assert } from 'node:assert';
import type { AppConfig } from '../../../src/config';
import { IntakeWindow } from '../../../src/an/intake-window';
import { topologyNames } from '../../../src/protocol/names';
import type { PendingItem } from '../../../src/protocol/messages';
import type { ConsumerHandle, Delivery, ReceiveHandler } from '../../../src/transport';
import { AN_DEFAULTS, fakeDelivery, heldOnPool, heldTask, kiHeartbeat, spec, type FakeDelivery } from './parts-fixtures';

/** An intake window over fake band consumers that record their prefetch. */
async function intakeOver(kis: number, slotsEach = 2, an: Partial<AppConfig['an']> = {}) {
  // The held tasks hand a later message back to the window, which is built after them.
  const late: { window?: IntakeWindow } = {};
  const { pool, held, wakes } = heldOnPool(Array.from({ length: kis }, (_, i) => kiHeartbeat(`ki-${i}`, { slots: { total: slotsEach, busy: 0 } })), (next) => late.window?.retake(next));
  const prefetches: number[][] = [];
  const handlers: ReceiveHandler[] = [];
  const republished: PendingItem[] = [];
  const bus = {
    subscribe: (_q: unknown, prefetch: number, _types: unknown, handler: ReceiveHandler): Promise<ConsumerHandle> => {
      const seen = [prefetch];
      prefetches.push(seen);
      handlers.push(handler);
      return Promise.resolve({ setPrefetch: (n: number) => { seen.push(n); return Promise.resolve(); }, cancel: () => Promise.resolve() });
    },
    send: (_t: unknown, _type: unknown, payload: { items: PendingItem[] }) => { republished.push(...payload.items); return Promise.resolve(); },
  };
  const intake = new IntakeWindow({ bus: bus as never, names: topologyNames('unit'), config: { security: { replayWindowMs: 60_000 }, an: { ...AN_DEFAULTS, ...an } }, pool: pool, held: held, wake: () => { wakes.n++; } });
  late.window = intake;
  await intake.subscribe();
  const deliver = (items: PendingItem[], delivery: Delivery = fakeDelivery(), timestampMs = Date.now()) =>
    void handlers[0]!({ msg: { id: 'm', type: 'task.pending', sender: 'p1', senderRole: 'principal', timestampMs, payload: { v: 1, items } }, delivery } as never);
  return { intake, pool, held, wakes, prefetches, deliver, republished };
}

describe('IntakeWindow: how many pending tasks the An takes in', () => {
  it('consumes nothing until the group has capacity, then a window of whole messages no smaller than the slots', async () => {
    const { intake, prefetches } = await intakeOver(0);
    assert.ok(prefetches.length > 0 && prefetches.every((p) => p.length === 1 && p[0] === 0), 'subscribed paused');
    intake.resize(false);
    assert.equal(intake.prefetch, 0);
    const four = await intakeOver(2);
    four.intake.resize(false);
    // 256 tasks of window, full messages (64 tasks) assumed at first: 4 messages, as many as the 4 slots.
    assert.equal(four.intake.prefetch, 4);
    assert.ok(four.prefetches.every((p) => p.at(-1) === 4));
    four.intake.resize(true);
    assert.equal(four.intake.prefetch, 0, 'a draining An takes nothing');
  });

  it('takes each task of a message into the wait queue, marks stale copies to be recorded first, and asks for placement', async () => {
    const { intake, held, wakes, deliver } = await intakeOver(1);
    intake.resize(false);
    const fresh = spec();
    const old = spec();
    deliver([{ task: fresh, attempts: 0 }]);
    deliver([{ task: old, attempts: 1 }], fakeDelivery(true));
    assert.equal(held.waiting.size, 2);
    assert.equal(held.get(fresh.id)?.recordFirst, undefined);
    assert.equal(held.get(old.id)?.recordFirst, true, 'a redelivered copy is recorded before it is assigned');
    assert.equal(held.get(old.id)?.attempts, 1);
    assert.ok(wakes.n >= 2);
  });

  it('keeps one message for a task it already holds and acks the other', async () => {
    const { intake, held, deliver } = await intakeOver(1);
    intake.resize(false);
    const task = spec();
    const first = fakeDelivery();
    const second = fakeDelivery();
    deliver([{ task, attempts: 0 }], first);
    deliver([{ task, attempts: 0 }], second);
    assert.equal(held.size, 1);
    assert.equal(first.settled, 'ack');
    assert.equal(second.settled, undefined);
    assert.equal(held.get(task.id)?.delivery, second);
  });

  it('keeps a message that comes for a task whose dispatch is recorded, and takes it in, recorded first, once the held copy lets go', async () => {
    const { intake, held, deliver } = await intakeOver(1);
    intake.resize(false);
    const task = spec();
    const first = fakeDelivery();
    deliver([{ task, attempts: 0 }], first);
    // Placed and recorded: the message is acked, the lease keeps the task from now on.
    const copy = held.get(task.id)!;
    held.waiting.remove(copy);
    copy.delivery!.ack();
    copy.delivery = undefined;
    copy.attempts = 1;

    // The lease ran out while this An could not write: the leader requeued the task and sent it again.
    const again = fakeDelivery();
    deliver([{ task, attempts: 1 }], again);
    assert.equal(again.settled, undefined, 'not acked while the held copy may still be the stale one');
    assert.equal(held.get(task.id), copy, 'the held copy stays until it lets go');

    // Its outcome write then fails the guard, and the copy is dropped.
    held.drop(copy);
    const retaken = held.get(task.id);
    assert.ok(retaken && retaken !== copy, 'taken in again as a new copy');
    assert.equal(retaken.delivery, again);
    assert.equal(retaken.recordFirst, true, 'recorded before it is assigned: a finished task is refused by its guard');
    assert.equal(retaken.attempts, 1);
    assert.ok(held.waiting.size === 1, 'waits for a slot');
    assert.equal(again.settled, undefined, 'acked only once its own dispatch is stored');
  });

  it('of several later messages keeps the newest, and a draining An gives it back to the queue', async () => {
    const { intake, held, deliver } = await intakeOver(1);
    intake.resize(false);
    const task = spec();
    deliver([{ task, attempts: 0 }]);
    const copy = held.get(task.id)!;
    held.waiting.remove(copy);
    copy.delivery = undefined;
    const older = fakeDelivery();
    const newer = fakeDelivery();
    deliver([{ task, attempts: 0 }], older);
    deliver([{ task, attempts: 0 }], newer);
    assert.equal(older.settled, 'ack');
    assert.equal(newer.settled, undefined);
    await intake.cancel();
    held.delete(task.id);
    assert.equal(newer.settled, 'requeue');
    assert.equal(held.size, 0);
  });

  it('pauses intake while more tasks wait than the window holds, and resumes once half were placed', async () => {
    const { intake, held } = await intakeOver(1, 1);
    intake.resize(false);
    const before = intake.prefetch;
    assert.ok(before > 0);
    const tasks = Array.from({ length: 257 }, () => heldTask());
    for (const t of tasks) { held.add(t); held.waiting.push(t); }
    intake.apply();
    assert.equal(intake.overfull, true);
    assert.equal(intake.prefetch, 0);
    for (const t of tasks.slice(0, 100)) held.waiting.remove(t);
    intake.applyIfOverfull();
    assert.equal(intake.prefetch, 0, '157 still wait: more than half of 256');
    for (const t of tasks.slice(100, 130)) held.waiting.remove(t);
    intake.applyIfOverfull();
    assert.equal(intake.overfull, false);
    assert.equal(intake.prefetch, before);
  });

  it('sizes the window by an.windowTasksPerSlot per slot, within an.windowMinTasks and an.windowMaxTasks', async () => {
    // One-task messages, so the prefetch (messages) equals the window (tasks).
    const oneTaskMessages = async (kis: number, an: Partial<AppConfig['an']>) => {
      const w = await intakeOver(kis, 2, an);
      for (let i = 0; i < 60; i++) w.deliver([{ task: spec(), attempts: 0 }]);
      for (const t of w.held.all()) w.held.waiting.remove(t);
      w.intake.resize(false);
      return w.intake.prefetch;
    };
    assert.equal(await oneTaskMessages(2, { windowTasksPerSlot: 3, windowMinTasks: 1, windowMaxTasks: 100 }), 12, '4 slots × 3');
    assert.equal(await oneTaskMessages(2, { windowTasksPerSlot: 3, windowMinTasks: 20, windowMaxTasks: 100 }), 20, 'raised to the least window');
    assert.equal(await oneTaskMessages(2, { windowTasksPerSlot: 3, windowMinTasks: 1, windowMaxTasks: 10 }), 10, 'capped at the largest window');
  });

  it('gives back a task that waited longer than an.maxWaitMs, but keeps one whose dispatch is already stored', async () => {
    const { intake, held } = await intakeOver(1);
    const stale = heldTask({ delivery: fakeDelivery(), sinceMs: Date.now() - AN_DEFAULTS.maxWaitMs - 1 });
    const recorded = heldTask({ sinceMs: Date.now() - AN_DEFAULTS.maxWaitMs - 1 });
    const young = heldTask({ delivery: fakeDelivery() });
    for (const t of [stale, recorded, young]) { held.add(t); held.waiting.push(t); }
    const staleDelivery = stale.delivery as FakeDelivery;
    intake.releaseStale();
    assert.equal(staleDelivery.settled, 'requeue');
    assert.equal(held.holds(stale), false);
    assert.equal(held.waiting.size, 2);
    assert.ok(held.holds(recorded) && held.holds(young));
  });

  it('measures the wait against the configured an.maxWaitMs', async () => {
    const { intake, held } = await intakeOver(1, 2, { maxWaitMs: 1000 });
    const oldDelivery = fakeDelivery();
    const old = heldTask({ delivery: oldDelivery, sinceMs: Date.now() - 1500 });
    const recent = heldTask({ delivery: fakeDelivery(), sinceMs: Date.now() - 200 });
    for (const t of [old, recent]) { held.add(t); held.waiting.push(t); }
    intake.releaseStale();
    assert.equal(oldDelivery.settled, 'requeue');
    assert.equal(held.holds(old), false);
    assert.equal(held.holds(recent), true);
  });

  it('republishes on its own a task of a shared message that is given back, and acks the message once all are settled', async () => {
    const { intake, held, deliver, republished } = await intakeOver(1);
    intake.resize(false);
    const a = spec();
    const b = spec();
    const message = fakeDelivery();
    deliver([{ task: a, attempts: 0 }, { task: b, attempts: 0 }], message);
    held.get(a.id)!.delivery!.ack();
    held.get(b.id)!.delivery!.requeue();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(republished.map((i) => i.task.id), [b.id]);
    assert.equal(message.settled, 'ack');
  });
});
