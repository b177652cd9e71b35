/**
 * Type-level checks of the typed destinations: every `@ts-expect-error` line below must fail to
 * compile (the compiler reports a directive whose line compiles), and the lines without one must
 * compile. Checked by `npx tsc -p tsconfig.json --noEmit` and by destinations.test.ts; never run.
 */
import { randomUUID } from 'node:crypto';
import {
  anInbox, assignRoute, cancelRoute, deadLetters, electionQueue, heartbeatRoute, identityReply, joinRoute, kiInbox, pendingBand, taskEventRoute,
  type Destination,
} from '../../../src/protocol';
import type { MessageOf, MessageType, PendingItem, TopologyNames } from '../../../src/protocol';
import type { MessageBus } from '../../../src/transport';

const pending: MessageOf<'task.pending'> = { v: 1, items: [] };
const assign: MessageOf<'task.assign'> = { v: 1, an: 'an-1', items: [] };
const result: MessageOf<'task.result'> = { v: 1, ki: 'ki-1', items: [] };
const progress: MessageOf<'task.progress'> = { v: 1, taskId: randomUUID(), attempt: 1, fraction: 0.5 };
const events: MessageOf<'task.event'> = { v: 1, events: [] };
const tick: MessageOf<'election.tick'> = { v: 1, from: 'p-1', atMs: 0 };

/** What compiles: each destination takes the types its consumer accepts. */
export async function rightTypes(bus: MessageBus, names: TopologyNames): Promise<void> {
  await bus.send(kiInbox(names, 'ki-1'), 'task.assign', assign);
  await bus.send(anInbox(names, 'an-1'), 'task.result', result);
  await bus.send(anInbox(names, 'an-1'), 'task.progress', progress);
  await bus.send(pendingBand(names, 5), 'task.pending', pending, { persistent: true });
  await bus.sendMany(pendingBand(names, 5), 'task.pending', [] as PendingItem[], (items) => ({ v: 1, items }));
  await bus.send(taskEventRoute(names, 'finished'), 'task.event', events);
  await bus.send(electionQueue(names), 'election.tick', tick);
  // A destination that accepts more types serves where fewer are asked for.
  const results: Destination<'task.result'> = anInbox(names, 'an-1');
  await bus.send(results, 'task.result', result);
}

/** What does not compile. */
export async function wrongTypes(bus: MessageBus, names: TopologyNames): Promise<void> {
  // @ts-expect-error a pending message does not go to a Ki's inbox
  await bus.send(kiInbox(names, 'ki-1'), 'task.pending', pending);
  // @ts-expect-error an assignment does not go to an An's inbox
  await bus.send(anInbox(names, 'an-1'), 'task.assign', assign);
  // @ts-expect-error a batch of assignments does not go to a pending band
  await bus.sendMany(pendingBand(names, 5), 'task.assign', [] as MessageOf<'task.assign'>['items'], (items) => ({ v: 1, an: 'an-1', items }));
  // @ts-expect-error a task event does not travel under a cancel's routing key
  await bus.send(cancelRoute(names, 'ki-1'), 'task.event', events);
  // @ts-expect-error a pending message does not travel under a heartbeat's routing key
  await bus.send(heartbeatRoute(names, 'ki', 'ki-1'), 'task.pending', pending);
  // @ts-expect-error an election tick does not go to a node's identity queue
  await bus.send(identityReply(names, 'ki', 'ki-1', 'instance-0123456789'), 'election.tick', tick);
  // @ts-expect-error the dead letters take only the note of a failed task
  await bus.send(deadLetters(names, 'echo'), 'task.pending', pending);
  // @ts-expect-error a group assignment's route takes no join
  await bus.send(assignRoute(names, 'ki-1'), 'node.join', { v: 1 } as MessageOf<'node.join'>);
  // @ts-expect-error a join's route takes no group assignment
  await bus.send(joinRoute(names, 'ki', 'ki-1'), 'node.assign', { v: 1, nodeId: 'ki-1', group: 'an-1', term: 1 });
  // @ts-expect-error the payload must be the one of the type sent
  await bus.send(anInbox(names, 'an-1'), 'task.result', progress);
  // @ts-expect-error a bare target is no destination: the untyped send is gone
  await bus.send({ queue: names.inbox('ki', 'ki-1') }, 'task.pending', pending);
}

/** Destinations cannot be forged or widened outside the protocol. */
export function noForgery(names: TopologyNames): Destination<MessageType>[] {
  // @ts-expect-error a destination is built by the protocol's functions, not by hand
  const forged: Destination<'task.pending'> = { target: { queue: names.inbox('ki', 'ki-1') } };
  // @ts-expect-error a Ki's inbox cannot be widened to take every type
  const widened: Destination<MessageType> = kiInbox(names, 'ki-1');
  // @ts-expect-error an An's inbox is no Ki's inbox
  const swapped: Destination<'task.assign'> = anInbox(names, 'an-1');
  return [forged, widened, swapped] as Destination<MessageType>[];
}
