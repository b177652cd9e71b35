import type { TaskSpec } from '../protocol/messages';
import type { Delivery } from '../transport/types';

/** A task this An holds: its pending delivery stays unacked until the task's outcome is stored. */
export interface HeldTask {
  spec: TaskSpec;
  /** The attempts value the store has for it: the fencing token of every write. */
  attempts: number;
  delivery: Delivery;
  trace?: string;
  /** The Ki running the current attempt, if any. */
  ki?: string;
  startedAtMs?: number;
}
