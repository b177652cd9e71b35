/** The schedule JSON of the REST API as the client reads it; kept apart from the server's types. */

/** A schedule as GET /schedules/{id} returns it. */
export interface ApiSchedule {
  id: string;
  name: string;
  owner: string;
  cron: string;
  timezone: string;
  task: Record<string, unknown>;
  overlap: 'skip' | 'allow';
  catchup: 'none' | 'latest';
  paused: boolean;
  nextRunAt: string | null;
  lastRun: { tickAt: string; outcome: 'created' | 'skipped-overlap'; taskId: string | null; at: string } | null;
  runs: { created: number; skippedOverlap: number };
  createdAt: string;
  updatedAt: string;
}

/** One page of GET /schedules. */
export interface ApiSchedulePage {
  items: ApiSchedule[];
  nextCursor: string | null;
}

/** A schedule to create (POST /schedules). */
export interface CreateScheduleBody {
  name: string;
  cron: string;
  timezone?: string;
  overlap?: string;
  catchup?: string;
  task: Record<string, unknown>;
}
