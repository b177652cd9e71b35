/** Every state a task can be in, in lifecycle order. */
export const TASK_STATUSES = ['scheduled', 'queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled'] as const;

/** A task's state, as the store keeps it and REST shows it. */
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** States a task's run ends in: only DELETE removes it, and only a caller's retry takes a failed one back to the queue. */
export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly TaskStatus[];

/** A state a task never leaves. */
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/** States of a task that is not finished: waiting for an An, or held by one. */
export const ACTIVE_STATUSES = ['queued', 'dispatched', 'running'] as const satisfies readonly TaskStatus[];

/**
 * States of a task that waits in the store for its `runAt` (a delayed submission, or a failed
 * attempt's retry backoff): it is in no queue and no An holds it, until the leader releases it.
 */
export const WAITING_STATUSES = ['scheduled'] as const satisfies readonly TaskStatus[];

/**
 * Terminal states a caller may run again (`POST /tasks/{id}/retry`, a dead letter's re-drive):
 * only `failed`, which covers a timeout, a lost lease with no attempt left and an unplaceable
 * task too (the error code tells them apart). `cancelled` was someone's decision (or the end of
 * its workflow or schedule) and `succeeded` has its result: those are submitted anew instead.
 */
export const RETRYABLE_STATUSES = ['failed'] as const satisfies readonly TaskStatus[];

/** States of a task not finished yet, held or not: what a cancel may end. */
export const UNFINISHED_STATUSES = [...WAITING_STATUSES, ...ACTIVE_STATUSES] as const satisfies readonly TaskStatus[];

/**
 * States in which a task's priority may change: it is in no An's hands yet. A queued task's pending
 * message is published again in its new band; a scheduled one is published at its release.
 */
export const REPRIORITIZABLE_STATUSES = ['scheduled', 'queued'] as const satisfies readonly TaskStatus[];

/**
 * States in which an An holds the task under a lease (it was dispatched to a Ki): the lease sweep
 * and the requeue of a dead An's tasks look only at these.
 */
export const HELD_STATUSES = ['dispatched', 'running'] as const satisfies readonly TaskStatus[];

/**
 * States in which a row may name its An and lease: held (dispatched, running). `queued` stays
 * listed for rows an An of an earlier version left naming itself while it waited out a retry
 * backoff in memory: during a rolling upgrade the lease sweep and the requeue of a dead An still
 * take those back. Every current way into `queued` clears the An and the lease, so such a row is
 * never matched otherwise. A `scheduled` row (retry backoff today) holds no lease: the leader's
 * release brings it back, whatever became of the An that ran its last attempt.
 */
export const LEASED_STATUSES = ['queued', 'dispatched', 'running'] as const satisfies readonly TaskStatus[];

const TERMINAL_SET: ReadonlySet<TaskStatus> = new Set(TERMINAL_STATUSES);

/** Whether `s` is a state the task never leaves. */
export function isTerminal(s: TaskStatus): s is TerminalStatus {
  return TERMINAL_SET.has(s);
}

const HELD_SET: ReadonlySet<TaskStatus> = new Set(HELD_STATUSES);

/** Whether an An holds a task in state `s` (it was dispatched to a Ki and may be running there). */
export function isHeld(s: TaskStatus): s is (typeof HELD_STATUSES)[number] {
  return HELD_SET.has(s);
}

