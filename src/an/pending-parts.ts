import { type PendingItem, type TopologyNames, pendingBand } from '../protocol';
import type { Delivery, MessageBus } from '../transport';

/**
 * Splits one delivery that carries many tasks into one settle handle per task. The message is
 * acked once every part is acked. A part given back (requeue) while others are still held or done
 * cannot requeue the whole message without repeating them, so it is republished on its own by
 * `republish` and then counts as acked; should that fail, the whole message goes back (tasks
 * already dispatched are then dropped as duplicates by the dispatch guard).
 */
export function splitDelivery<I>(delivery: Delivery, items: readonly I[], republish: (item: I) => Promise<void>): Delivery[] {
  if (items.length === 1) return [delivery];
  let open = items.length;
  const done = () => { if (--open === 0) delivery.ack(); };
  return items.map((item) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    return {
      message: delivery.message,
      redelivered: delivery.redelivered,
      ack: () => settle(done),
      // A refused task is dropped like an acked one: the message's other tasks must not be refused with it.
      reject: () => settle(done),
      requeue: () => settle(() => { republish(item).then(done, () => delivery.requeue()); }),
    };
  });
}

/** Sends one task back to the pending queue of its band, on its own. */
export function republishPending(bus: Pick<MessageBus, 'send'>, names: TopologyNames, item: PendingItem): Promise<void> {
  return bus.send(pendingBand(names, item.task.priority), 'task.pending', { v: 1, items: [item] }, { persistent: true });
}
