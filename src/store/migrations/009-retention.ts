/**
 * Indexes for the leader's retention pass. It looks for the oldest finished tasks, and for
 * idempotency keys older than the retention age: without these indexes each pass would read the
 * whole table. The task index is partial (only finished rows carry a `finished_at`), so a running
 * task costs it nothing, and a task takes its one entry when it finishes. `finished_at` exists since
 * migration 001, so CockroachDB takes the predicate (cf. cockroachdb/cockroach#83593 in 005).
 */
export const migration009 = {
  version: 9,
  name: 'retention',
  statements: [
    'CREATE INDEX IF NOT EXISTS tasks_finished_idx ON tasks (finished_at) WHERE finished_at IS NOT NULL',
    'CREATE INDEX IF NOT EXISTS task_idempotency_created_idx ON task_idempotency (created_at)',
  ],
};
