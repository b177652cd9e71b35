import { ACTIVE_STATUSES, HELD_STATUSES, LEASED_STATUSES, RETRYABLE_STATUSES, UNFINISHED_STATUSES, WAITING_STATUSES, type TaskStatus } from './status';

// The one-state lists the table leaves from, named like HELD_STATUSES and ACTIVE_STATUSES: no
// entry spells its states inline, so an inline state list anywhere in src/ is a write that
// bypasses this table (a grep finds it).
const QUEUED = ['queued'] as const satisfies readonly TaskStatus[];
const DISPATCHED = ['dispatched'] as const satisfies readonly TaskStatus[];

/** One named state change: the states it may leave, the state it enters, whether it counts an attempt. */
export interface TransitionRule {
  readonly from: readonly TaskStatus[];
  readonly to: TaskStatus;
  /** A dispatch: the attempt counter goes up by one, and the new value fences every later write. */
  readonly countsAttempt?: true;
}

/**
 * Every state change a task makes, in one table. The store compiles each entry into one guarded
 * UPDATE (`WHERE status = ANY(from) AND attempts = expected`), so a duplicate or late message, a
 * deposed leader or a second An finds the row moved on and changes nothing.
 *
 * The `dispatchAnd…` entries serve the An's deferred dispatch record: a short task assigned
 * straight from its pending message may report its outcome before its dispatch was stored; the
 * outcome is then written together with the dispatch, from `queued`, in one row version.
 */
export const TRANSITIONS = {
  /** An: the task was placed on a Ki; the An holds it under a lease from now on. */
  dispatch: { from: QUEUED, to: 'dispatched', countsAttempt: true },
  /** An: the deferred dispatch record of an attempt whose Ki already reported it started. */
  dispatchStarted: { from: QUEUED, to: 'running', countsAttempt: true },
  /** An: the task's lease expired under another An; this one runs it as a new attempt. */
  takeOver: { from: HELD_STATUSES, to: 'dispatched', countsAttempt: true },
  /** An: the Ki reported the attempt started. */
  start: { from: DISPATCHED, to: 'running' },
  /** An: the attempt (or the vote of its replicas) succeeded. */
  succeed: { from: HELD_STATUSES, to: 'succeeded' },
  /** An: the attempt failed for good (not retryable, or no attempt left). */
  fail: { from: HELD_STATUSES, to: 'failed' },
  /**
   * An: the attempt failed but may be retried; the task waits out the backoff in the store
   * (`runAt` = now + backoff, An, Ki and lease cleared) and the leader's `release` requeues it when
   * due, so the backoff outlives the An that ran the attempt.
   */
  retry: { from: HELD_STATUSES, to: 'scheduled' },
  /** An: a deferred dispatch and its success, stored at once. */
  dispatchAndSucceed: { from: QUEUED, to: 'succeeded', countsAttempt: true },
  /** An: a deferred dispatch and its failure, stored at once. */
  dispatchAndFail: { from: QUEUED, to: 'failed', countsAttempt: true },
  /** An: a deferred dispatch and its retryable failure, stored at once. */
  dispatchAndRetry: { from: QUEUED, to: 'scheduled', countsAttempt: true },
  /** An: no Ki of the cluster could ever run the task. */
  failUnplaceable: { from: QUEUED, to: 'failed' },
  /** An (shutting down): the task goes back to the queue for another An. */
  handBack: { from: ACTIVE_STATUSES, to: 'queued' },
  /**
   * Leader: the task's An died or stopped renewing its lease, and attempts are left; also a
   * `queued` row an An of an earlier version left naming itself during a retry backoff (see
   * LEASED_STATUSES): it goes back to the queue unowned.
   */
  requeueLost: { from: LEASED_STATUSES, to: 'queued' },
  /** Leader: the task's lease expired and its attempts are used up. */
  expireLease: { from: HELD_STATUSES, to: 'failed' },
  /**
   * Leader: a scheduled task's `runAt` came (a delayed submission, or a retry's backoff ran out):
   * it goes to the queue and is published, fenced by the leader's term.
   */
  release: { from: WAITING_STATUSES, to: 'queued' },
  /** REST caller: the task is cancelled before it finished, waiting for its `runAt` or not. */
  cancel: { from: UNFINISHED_STATUSES, to: 'cancelled' },
  /**
   * REST caller (a retry, or an operator's re-drive of its dead letter): a failed task runs again
   * under the same id. The attempt counter is not touched here: the next dispatch counts the new
   * attempt, fenced like any other.
   */
  retryFailed: { from: RETRYABLE_STATUSES, to: 'queued' },
} as const satisfies Record<string, TransitionRule>;

/** The name of one entry of {@link TRANSITIONS}. */
export type TransitionName = keyof typeof TRANSITIONS;

/** Every transition name, in table order. */
export const TRANSITION_NAMES = Object.keys(TRANSITIONS) as TransitionName[];

/** The rule of a named transition. */
export function transitionRule(name: TransitionName): TransitionRule {
  return TRANSITIONS[name];
}

/** What an outcome write becomes when the dispatch of its attempt is not stored yet. */
const WITH_DISPATCH = {
  succeed: 'dispatchAndSucceed',
  fail: 'dispatchAndFail',
  retry: 'dispatchAndRetry',
  start: 'dispatchStarted',
} as const satisfies Partial<Record<TransitionName, TransitionName>>;

/** An outcome of an attempt whose dispatch may still be unrecorded. */
export type OutcomeTransitionName = keyof typeof WITH_DISPATCH;

/**
 * The transition that records an attempt's dispatch together with `name` (queued → its target),
 * for an An whose dispatch record was deferred and has not been written yet.
 */
export function withDispatch(name: OutcomeTransitionName): TransitionName {
  return WITH_DISPATCH[name];
}
