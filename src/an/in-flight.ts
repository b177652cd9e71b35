import type { PendingItem, TaskErrorData, TaskSpec } from '../protocol';
import type { GpuReservation } from './gpu-allocator';
import type { Delivery } from '../transport';
import type { Waiting } from './fair-wait-queue';
import type { VoteTally } from './vote-tally';

/** One replica of the current attempt, running on a Ki. */
export interface Replica {
  reservation: GpuReservation | null;
  gpus: number[];
  startedAtMs?: number;
}

/** A task this An holds, from receipt until its outcome is stored. */
export interface HeldTask extends Waiting {
  spec: TaskSpec;
  /** The attempts value the store has for it: the fencing token of every write. */
  attempts: number;
  /** The pending message, until the dispatch is recorded (then it is acked). */
  delivery?: Delivery;
  trace?: string;
  /** How often the task was handed on because this group could not run it. */
  hops: number;
  /** Replicas of the current attempt by Ki id (one unless redundancy asks for more). */
  runs: Map<string, Replica>;
  /** Votes of redundant replicas. */
  tally?: VoteTally;
  firstStartedAtMs?: number;
  /**
   * A dispatch assigned before it is recorded (see `an.dispatchRecordDelayMs`):
   * `deferred` until the record is due (the outcome, if it comes first, records both at once),
   * `writing` while the record is on its way.
   */
  claim?: { state: 'deferred'; base: number; ki: string; gpus?: Record<string, number[]>; timer: NodeJS.Timeout } | { state: 'writing'; done: Promise<void> };
  /** Its deferred dispatch failed its guard: the next dispatch is recorded first, the usual way. */
  recordFirst?: boolean;
  /**
   * A pending message of this task that came after its own was settled. The leader sends one when
   * it took the task back (its lease ran out while this An could not write), and this copy's
   * writes then fail their guard. It stays unacked until this copy lets go, then is taken in again.
   */
  successor?: PendingSuccessor;
}

/** `{ gpus }` of the current attempt by Ki for the task's attempt log, or nothing when it has none. */
export function gpusByKi(t: Pick<HeldTask, 'runs'>): { gpus?: Record<string, number[]> } {
  const given = [...t.runs].filter(([, r]) => r.gpus.length > 0);
  return given.length ? { gpus: Object.fromEntries(given.map(([ki, r]) => [ki, r.gpus])) } : {};
}

/** A later pending message of a held task, kept until the held copy lets go. */
export interface PendingSuccessor {
  item: PendingItem;
  delivery: Delivery;
  trace?: string;
}

/** When the attempt started and ended, as its Ki reported them. */
export interface AttemptTimes {
  startedAt: Date;
  finishedAt: Date;
}

/** What a terminal write stores. */
export interface TaskOutcome {
  result: unknown;
  error: TaskErrorData | null;
}

/**
 * The transitions that end a task held here: its attempt (or vote) succeeded or failed, or no Ki
 * of the cluster could ever run it (the task never left the queue).
 */
export type FinishTransitionName = 'succeed' | 'fail' | 'failUnplaceable';

/**
 * Stores a task's terminal outcome (by transition `name`, guarded by its attempts) and lets the
 * task go: `OutcomeHandler.finish`, which other parts reach through this type.
 */
export type FinishTask = (t: HeldTask, name: FinishTransitionName, outcome: TaskOutcome, times?: AttemptTimes) => Promise<void>;
