import type { CatchupPolicy, OverlapPolicy, RunOutcome } from '../schedule';

/** The last claimed tick of a schedule and what it did. */
export interface ScheduleRun {
  tickAt: Date;
  outcome: RunOutcome;
  /** The task it created; null for a skipped run. */
  taskId: string | null;
  /** When the run was recorded. */
  at: Date;
}

/** A schedule as the store keeps it. `task` is a validated task submission body. */
export interface ScheduleRecord {
  id: string;
  owner: string;
  name: string;
  cron: string;
  timezone: string;
  task: Record<string, unknown>;
  overlap: OverlapPolicy;
  catchup: CatchupPolicy;
  paused: boolean;
  /** Grows with every change of definition or state by a caller: a tick claim read before it fails. */
  revision: number;
  nextRunAt: Date;
  lastRun: ScheduleRun | null;
  runsCreated: number;
  runsSkipped: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A due schedule with the status of its last run's task (null: none, or deleted since). */
export interface DueSchedule extends ScheduleRecord {
  lastTaskStatus: string | null;
}

/** The schedule as REST returns it. */
export function toApiSchedule(s: ScheduleRecord) {
  return {
    id: s.id, name: s.name, owner: s.owner, cron: s.cron, timezone: s.timezone, task: s.task, overlap: s.overlap, catchup: s.catchup,
    paused: s.paused, nextRunAt: s.paused ? null : s.nextRunAt.toISOString(),
    lastRun: s.lastRun ? { tickAt: s.lastRun.tickAt.toISOString(), outcome: s.lastRun.outcome, taskId: s.lastRun.taskId, at: s.lastRun.at.toISOString() } : null,
    runs: { created: s.runsCreated, skippedOverlap: s.runsSkipped },
    createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString(),
  };
}
export type ApiSchedule = ReturnType<typeof toApiSchedule>;
