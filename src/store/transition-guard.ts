import { UnknownTransitionError } from '../errors';
import type { TaskErrorData } from '../protocol';
import { TRANSITIONS, type TaskStatus, type TransitionName, type TransitionRule } from '../task';

/** What a transition writes besides the state, and the attempt that fences it. */
interface TransitionWrite {
  id: string;
  /** The attempt the task must be at: the fencing token, so a duplicate or late message changes nothing. */
  expectedAttempts: number;
  an?: string | null;
  ki?: string | null;
  /** Sets the lease to now + leaseMs; `null` clears it. */
  leaseMs?: number | null;
  startedAt?: Date;
  finishedAt?: Date;
  /** Sets result and error (both, so a retry's success clears an earlier error). */
  outcome?: { result: unknown; error: TaskErrorData | null };
  /** The task goes back to the queue: forget its publish so the sweeper republishes if needed. */
  clearPublished?: boolean;
  /** Sets `runAt` to now + runAfterMs by the database's clock (a task scheduled for later). */
  runAfterMs?: number;
  /** GPU indices a dispatch gave the attempt, by Ki: kept in the task's attempt log only. */
  gpus?: Record<string, number[]>;
}

/**
 * One guarded state change, named by its entry in `TRANSITIONS` (`task/`): the name gives the
 * states it may leave, the state it enters and whether it counts an attempt. It applies only if
 * the task is in one of those states and at attempt `expectedAttempts`.
 */
export interface Transition extends TransitionWrite {
  name: TransitionName;
}

/** The guard and target of a transition, as its UPDATE uses them. */
export interface CompiledGuard {
  from: readonly TaskStatus[];
  to: TaskStatus;
  bump: boolean;
}

/**
 * The guard and target of a transition, from the table. Throws {@link UnknownTransitionError}
 * for a name outside it (a caller that got past the type system).
 */
export function compileGuard(t: Transition): CompiledGuard {
  const rule: TransitionRule | undefined = Object.hasOwn(TRANSITIONS, t.name) ? TRANSITIONS[t.name] : undefined;
  if (!rule) throw new UnknownTransitionError(t.name);
  return { from: rule.from, to: rule.to, bump: rule.countsAttempt === true };
}

/** A constant list of states as SQL text: the statements stay fixed strings, planned once. */
export const sqlStates = (states: readonly TaskStatus[]): string => states.map((s) => `'${s}'`).join(', ');
