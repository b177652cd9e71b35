import type { MessageType } from './messages';

/**
 * The message types each kind of queue carries. A consumer subscribes with one of these lists:
 * any other type is refused before its handler, and the handler receives a union narrowed to
 * these types, so a `switch` on `msg.type` is checked for exhaustiveness.
 */
export const CARRIES = {
  /** An's inbox: reports of its Kis. */
  anInbox: ['task.started', 'task.progress', 'task.output', 'task.result'],
  /** An's view of the control exchange. */
  anControl: ['node.heartbeat'],
  /** The priority-band queues. */
  pending: ['task.pending'],
  /** Ki's inbox. */
  kiInbox: ['task.assign'],
  /** Ki's view of the control exchange. */
  kiControl: ['task.cancel', 'node.assign', 'model.command'],
  /** Principal's view of the control exchange (joins only where it issues identities). */
  principalControl: ['node.heartbeat', 'task.event', 'task.chunk', 'node.join'],
  /** The election queue. */
  election: ['election.tick'],
  /** A joining process's identity queue. */
  identity: ['node.identity'],
} as const satisfies Record<string, readonly MessageType[]>;

/** The types a queue of kind `Q` carries. */
export type CarriedBy<Q extends keyof typeof CARRIES> = (typeof CARRIES)[Q][number];
