/** Tasks, idempotency keys and the leader lease. Runs unchanged on PostgreSQL 15 and CockroachDB. */
export const migration001 = {
  version: 1,
  name: 'tasks',
  statements: [
    `CREATE TABLE IF NOT EXISTS tasks (
      id UUID PRIMARY KEY,
      type TEXT NOT NULL,
      payload JSONB,
      status TEXT NOT NULL,
      priority INT NOT NULL,
      requirements JSONB NOT NULL,
      redundancy JSONB,
      attempts INT NOT NULL DEFAULT 0,
      max_attempts INT NOT NULL,
      timeout_ms BIGINT NOT NULL,
      result JSONB,
      error JSONB,
      progress JSONB,
      owner TEXT NOT NULL,
      an TEXT,
      ki TEXT,
      trace_context TEXT,
      lease_expires_at TIMESTAMPTZ,
      published_at TIMESTAMPTZ,
      created_at TIMESTAMPTZ NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL,
      started_at TIMESTAMPTZ,
      finished_at TIMESTAMPTZ
    )`,
    'CREATE INDEX IF NOT EXISTS tasks_created_idx ON tasks (created_at DESC, id DESC)',
    'CREATE INDEX IF NOT EXISTS tasks_owner_created_idx ON tasks (owner, created_at DESC, id DESC)',
    'CREATE INDEX IF NOT EXISTS tasks_status_created_idx ON tasks (status, created_at DESC, id DESC)',
    'CREATE INDEX IF NOT EXISTS tasks_lease_idx ON tasks (lease_expires_at) WHERE lease_expires_at IS NOT NULL',
    'CREATE INDEX IF NOT EXISTS tasks_unpublished_idx ON tasks (created_at) WHERE published_at IS NULL',
    `CREATE TABLE IF NOT EXISTS task_idempotency (
      owner TEXT NOT NULL,
      key TEXT NOT NULL,
      task_ids JSONB NOT NULL,
      created_at TIMESTAMPTZ NOT NULL,
      PRIMARY KEY (owner, key)
    )`,
    `CREATE TABLE IF NOT EXISTS leader_lease (
      name TEXT PRIMARY KEY,
      holder TEXT NOT NULL,
      term BIGINT NOT NULL,
      expires_at TIMESTAMPTZ NOT NULL
    )`,
  ],
};
