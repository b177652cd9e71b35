/**
 * The sweeper's index of unpublished tasks held every task that never needed a publish mark, and
 * so took a new entry at every later write of the row (a status change is never a HOT update).
 * Narrowed to queued tasks, a task leaves it when it is dispatched or finished. CockroachDB and
 * PostgreSQL both take the partial index; the old one is dropped after the new one exists.
 */
export const migration003 = {
  version: 3,
  name: 'unpublished-index-queued-only',
  statements: [
    "CREATE INDEX IF NOT EXISTS tasks_unpublished_queued_idx ON tasks (created_at) WHERE published_at IS NULL AND status = 'queued'",
    'DROP INDEX IF EXISTS tasks_unpublished_idx',
  ],
};
