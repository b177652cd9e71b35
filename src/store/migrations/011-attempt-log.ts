/**
 * A task's story: each state change with its attempt, An, Ki, GPUs and error, appended by the same
 * guarded UPDATE that makes the change (see `attempt-log.ts`), so the dashboard can show every
 * attempt of a task, not only the last. Bounded per task; NULL for tasks written before it.
 */
export const migration011 = {
  version: 11,
  name: 'attempt-log',
  statements: ['ALTER TABLE tasks ADD COLUMN IF NOT EXISTS attempt_log JSONB'],
};
