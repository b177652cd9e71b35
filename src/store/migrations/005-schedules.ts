/**
 * Cron schedules and the link of a task to the schedule tick that created it. The unique index on
 * (schedule_id, schedule_tick_at) is what makes a tick create at most one task, whatever leader
 * claims it and however often: the claim and the insert share one transaction, and a second
 * insert for the same tick fails the whole of it. Tasks submitted directly hold NULLs there, which
 * never collide (PostgreSQL and CockroachDB alike). The index is not partial on purpose:
 * CockroachDB refuses a partial index whose predicate names a column added in the same
 * transaction (cockroachdb/cockroach#83593), and each migration is one transaction.
 */
export const migration005 = {
  version: 5,
  name: 'schedules',
  statements: [
    'ALTER TABLE tasks ADD COLUMN IF NOT EXISTS schedule_id UUID',
    'ALTER TABLE tasks ADD COLUMN IF NOT EXISTS schedule_tick_at TIMESTAMPTZ',
    'CREATE UNIQUE INDEX IF NOT EXISTS tasks_schedule_tick_uidx ON tasks (schedule_id, schedule_tick_at)',
    `CREATE TABLE IF NOT EXISTS schedules (
      id UUID PRIMARY KEY,
      owner TEXT NOT NULL,
      name TEXT NOT NULL,
      cron TEXT NOT NULL,
      timezone TEXT NOT NULL,
      task JSONB NOT NULL,
      overlap TEXT NOT NULL,
      catchup TEXT NOT NULL,
      paused BOOLEAN NOT NULL,
      revision INT NOT NULL,
      next_run_at TIMESTAMPTZ NOT NULL,
      last_tick_at TIMESTAMPTZ,
      last_task_id UUID,
      last_outcome TEXT,
      last_run_at TIMESTAMPTZ,
      runs_created BIGINT NOT NULL DEFAULT 0,
      runs_skipped BIGINT NOT NULL DEFAULT 0,
      created_at TIMESTAMPTZ NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL
    )`,
    'CREATE INDEX IF NOT EXISTS schedules_owner_created_idx ON schedules (owner, created_at DESC, id DESC)',
    'CREATE INDEX IF NOT EXISTS schedules_created_idx ON schedules (created_at DESC, id DESC)',
    // Not partial, like the index above: the due query reads the active prefix in tick order.
    'CREATE INDEX IF NOT EXISTS schedules_due_idx ON schedules (paused, next_run_at)',
    `CREATE TABLE IF NOT EXISTS schedule_idempotency (
      owner TEXT NOT NULL,
      key TEXT NOT NULL,
      schedule_id UUID NOT NULL,
      created_at TIMESTAMPTZ NOT NULL,
      PRIMARY KEY (owner, key)
    )`,
  ],
};
