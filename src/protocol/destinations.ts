import type { MessageType } from './messages';
import type { TopologyNames } from './names';
import type { CarriedBy } from './queues';

/** Where a message is published: a queue (default exchange) or an exchange with a routing key. */
export type DestinationTarget = { readonly queue: string } | { readonly exchange: string; readonly routingKey: string };

/** Type-level only: carries the accepted types; never set at run time. */
declare const ACCEPTS: unique symbol;

/**
 * A place a node sends to, with the message types it accepts as `T`. Built only by the functions
 * below, so a message can reach a queue only in a type its consumer takes: sending a
 * `task.pending` to a Ki's inbox does not compile. Contravariant in `T`: a destination that
 * accepts more types also serves where fewer are asked for, never the other way round.
 */
export interface Destination<T extends MessageType> {
  readonly target: DestinationTarget;
  readonly [ACCEPTS]: (type: T) => void;
}

/**
 * A destination for any target and any types, unchecked.
 * @internal For the functions below and for tests that send to queues of their own; not exported
 * from the protocol index, so code elsewhere cannot reach it.
 */
export function uncheckedDestination<T extends MessageType>(target: DestinationTarget): Destination<T> {
  // The one place a target is paired with types: the accepted-types member exists only in the type.
  return { target } as Destination<T>;
}

/** A Ki's inbox: its assignments. */
export function kiInbox(names: TopologyNames, kiId: string): Destination<CarriedBy<'kiInbox'>> {
  return uncheckedDestination({ queue: names.inbox('ki', kiId) });
}

/** An An's inbox: what its Kis report of their attempts. */
export function anInbox(names: TopologyNames, anId: string): Destination<CarriedBy<'anInbox'>> {
  return uncheckedDestination({ queue: names.inbox('an', anId) });
}

/**
 * The pending queue of the priority band that `priority` falls in.
 * @param priority - a task priority (0–9); any priority of a band gives that band's queue.
 */
export function pendingBand(names: TopologyNames, priority: number): Destination<CarriedBy<'pending'>> {
  return uncheckedDestination({ queue: names.pendingFor(priority) });
}

/** The leader election queue. */
export function electionQueue(names: TopologyNames): Destination<CarriedBy<'election'>> {
  return uncheckedDestination({ queue: names.election });
}

/** The identity queue of one joining process (issued mode): the reply to its join. */
export function identityReply(names: TopologyNames, role: 'an' | 'ki', nodeId: string, instance: string): Destination<CarriedBy<'identity'>> {
  return uncheckedDestination({ queue: names.identity(role, nodeId, instance) });
}

/** A node's heartbeats on the control exchange. */
export function heartbeatRoute(names: TopologyNames, role: string, nodeId: string): Destination<'node.heartbeat'> {
  return uncheckedDestination({ exchange: names.control, routingKey: names.rk.heartbeat(role, nodeId) });
}

/** A cancel for the attempt running on one Ki, on the control exchange. */
export function cancelRoute(names: TopologyNames, kiId: string): Destination<'task.cancel'> {
  return uncheckedDestination({ exchange: names.control, routingKey: names.rk.cancel(kiId) });
}

/** A node's group assignment, on the control exchange. */
export function assignRoute(names: TopologyNames, nodeId: string): Destination<'node.assign'> {
  return uncheckedDestination({ exchange: names.control, routingKey: names.rk.assign(nodeId) });
}

/** Model loads and unloads for one Ki, on the control exchange. */
export function modelCommandRoute(names: TopologyNames, kiId: string): Destination<'model.command'> {
  return uncheckedDestination({ exchange: names.control, routingKey: names.rk.model(kiId) });
}

/**
 * Terminal task events on the control exchange.
 * @param status - the routing key's last part: a terminal status, or `finished` for a batch of any.
 */
export function taskEventRoute(names: TopologyNames, status: string): Destination<'task.event'> {
  return uncheckedDestination({ exchange: names.control, routingKey: names.rk.event(status) });
}

/** Output chunks of a running attempt, relayed by its An to every principal (control exchange). */
export function taskChunkRoute(names: TopologyNames): Destination<'task.chunk'> {
  return uncheckedDestination({ exchange: names.control, routingKey: names.rk.event('chunk') });
}

/** A join request (issued mode), on the control exchange. */
export function joinRoute(names: TopologyNames, role: 'an' | 'ki', nodeId: string): Destination<'node.join'> {
  return uncheckedDestination({ exchange: names.control, routingKey: names.rk.join(role, nodeId) });
}

/**
 * The dead-letter exchange, for a task that failed for good: a note for operators, routed by the
 * task's type. Everything else that reaches the dead letters is dead-lettered by the broker.
 */
export function deadLetters(names: TopologyNames, taskType: string): Destination<'task.failed'> {
  return uncheckedDestination({ exchange: names.deadLetterExchange, routingKey: `task.failed.${taskType}` });
}
