/**
 * Dead letters and retries. `dead_letters` holds what failed for good, as operators list and
 * re-drive it: one row per failed task (`dedup_key` `task:<id>`) or per message the broker
 * dead-lettered (`message:<id>`); the unique key makes a redelivered copy, or the same letter
 * taken by two principals, one row. No message body is kept: a sealed body cannot be read or
 * re-sent (its id and time are spent), and a failed task's payload stays in `tasks`.
 * `tasks.retry_history` keeps the outcome of each run a caller retried, `tasks.retries` counts them. Plain types and indexes
 * only, so PostgreSQL and CockroachDB both take it.
 */
export const migration007 = {
  version: 7,
  name: 'dead-letters',
  statements: [
    `CREATE TABLE IF NOT EXISTS dead_letters (
      id UUID PRIMARY KEY,
      dedup_key TEXT NOT NULL,
      task_id UUID,
      claimed_task_ids JSONB,
      message_type TEXT NOT NULL,
      reason TEXT NOT NULL,
      error_code TEXT,
      error_message TEXT,
      source_queue TEXT,
      sender TEXT,
      attempts INT,
      body_bytes INT NOT NULL,
      count INT NOT NULL,
      created_at TIMESTAMPTZ NOT NULL,
      last_seen_at TIMESTAMPTZ NOT NULL
    )`,
    'CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_dedup_idx ON dead_letters (dedup_key)',
    'CREATE INDEX IF NOT EXISTS dead_letters_created_idx ON dead_letters (created_at DESC, id DESC)',
    'CREATE INDEX IF NOT EXISTS dead_letters_task_idx ON dead_letters (task_id)',
    'ALTER TABLE tasks ADD COLUMN IF NOT EXISTS retry_history JSONB',
    // Retries so far: fences a retry like `attempts` fences an An (NULL = none, no backfill of old rows).
    'ALTER TABLE tasks ADD COLUMN IF NOT EXISTS retries INT',
  ],
};
