/**
 * Tasks that wait for a time: a delayed submission, or a failed attempt's retry backoff. `run_at`
 * says when a `scheduled` task is due. The partial index holds only scheduled rows, so the
 * leader's poll for due tasks reads a few index entries, and a task leaves the index as soon as
 * it is released (no entry for the common task that never waits). PostgreSQL and CockroachDB
 * both take it.
 */
export const migration004 = {
  version: 4,
  name: 'scheduled-tasks',
  statements: [
    'ALTER TABLE tasks ADD COLUMN IF NOT EXISTS run_at TIMESTAMPTZ',
    "CREATE INDEX IF NOT EXISTS tasks_scheduled_run_at_idx ON tasks (run_at) WHERE status = 'scheduled'",
  ],
};
