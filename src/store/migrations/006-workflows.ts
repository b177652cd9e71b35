/**
 * Workflows: a DAG of nodes, each run as one task (or one per element of a mapped upstream
 * result). A task created for a node names its workflow, node and element; the unique index on
 * those makes creating a node's task idempotent even if two leaders overlap. Ordinary tasks
 * leave the three columns NULL, and NULLs never collide in a unique index (PostgreSQL and
 * CockroachDB alike).
 */
export const migration006 = {
  version: 6,
  name: 'workflows',
  statements: [
    `CREATE TABLE IF NOT EXISTS workflows (
      id UUID PRIMARY KEY,
      owner TEXT NOT NULL,
      name TEXT,
      status TEXT NOT NULL,
      reason TEXT,
      idempotency_key TEXT,
      created_at TIMESTAMPTZ NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL,
      finished_at TIMESTAMPTZ
    )`,
    'CREATE INDEX IF NOT EXISTS workflows_owner_created_idx ON workflows (owner, created_at DESC, id DESC)',
    'CREATE INDEX IF NOT EXISTS workflows_created_idx ON workflows (created_at DESC, id DESC)',
    'CREATE INDEX IF NOT EXISTS workflows_status_idx ON workflows (status, id)',
    'CREATE UNIQUE INDEX IF NOT EXISTS workflows_idempotency_idx ON workflows (owner, idempotency_key)',
    `CREATE TABLE IF NOT EXISTS workflow_nodes (
      workflow_id UUID NOT NULL,
      key TEXT NOT NULL,
      position INT NOT NULL,
      spec JSONB NOT NULL,
      depends_on JSONB NOT NULL,
      map_over TEXT,
      status TEXT NOT NULL,
      reason TEXT,
      task_ids JSONB NOT NULL,
      started_at TIMESTAMPTZ,
      finished_at TIMESTAMPTZ,
      PRIMARY KEY (workflow_id, key)
    )`,
    'ALTER TABLE tasks ADD COLUMN IF NOT EXISTS workflow_id UUID',
    'ALTER TABLE tasks ADD COLUMN IF NOT EXISTS workflow_node TEXT',
    'ALTER TABLE tasks ADD COLUMN IF NOT EXISTS workflow_index INT',
    'ALTER TABLE tasks ADD COLUMN IF NOT EXISTS inputs JSONB',
    'CREATE UNIQUE INDEX IF NOT EXISTS tasks_workflow_node_idx ON tasks (workflow_id, workflow_node, workflow_index)',
  ],
};
