/** Every state a task can be in, in lifecycle order. */
export const TASK_STATUSES = ['queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled'] as const;

/** A task's state, as the store keeps it and REST shows it. */
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** States a task never leaves (only DELETE removes it). */
export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly TaskStatus[];

/** A state a task never leaves. */
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/** States of a task that is not finished: waiting for an An, or held by one. */
export const ACTIVE_STATUSES = ['queued', 'dispatched', 'running'] as const satisfies readonly TaskStatus[];

/**
 * States in which an An holds the task under a lease (it was dispatched to a Ki): the lease sweep
 * and the requeue of a dead An's tasks look only at these.
 */
export const HELD_STATUSES = ['dispatched', 'running'] as const satisfies readonly TaskStatus[];

/**
 * States in which a row may still name its An and lease: held, or `queued` while the An waits out
 * a failed attempt's retry backoff (the `retry` transition keeps both). The lease renewal, the
 * lease sweep and the requeue of a dead An's tasks look at these, so a task in backoff outlives
 * its An: a `queued` row with no An and no lease is never matched by them.
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

