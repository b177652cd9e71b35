/**
 * Tenants: the tenant of each task (the token's `tenant` claim, else its subject), the settings
 * admins give each tenant, the tasks held back from the broker until the fair releaser publishes
 * them, and the GPU-seconds each tenant used per period.
 *
 * `tasks_tenant_active_idx` holds only unfinished rows (a finished task leaves it), so counting
 * each tenant's queued and running tasks reads a few index entries, not the table. Its predicate
 * names only `status`: CockroachDB refuses a partial index whose predicate names a column added
 * in the same transaction (cockroachdb/cockroach#83593). Rows written before this migration have
 * no tenant: readers take their owner instead.
 */
export const migration010 = {
  version: 10,
  name: 'tenancy',
  statements: [
    'ALTER TABLE tasks ADD COLUMN IF NOT EXISTS tenant TEXT',
    'ALTER TABLE tasks ADD COLUMN IF NOT EXISTS gpu_seconds DOUBLE PRECISION',
    "CREATE INDEX IF NOT EXISTS tasks_tenant_active_idx ON tasks (tenant, status) WHERE status IN ('queued', 'dispatched', 'running')",
    `CREATE TABLE IF NOT EXISTS tenants (
      name TEXT PRIMARY KEY,
      weight INT NOT NULL,
      max_running INT,
      max_queued INT,
      gpu_seconds_budget DOUBLE PRECISION,
      updated_at TIMESTAMPTZ NOT NULL
    )`,
    // One row per held task, in the order the releaser publishes a tenant's tasks.
    `CREATE TABLE IF NOT EXISTS task_holds (
      tenant TEXT NOT NULL,
      created_at TIMESTAMPTZ NOT NULL,
      id UUID NOT NULL,
      PRIMARY KEY (tenant, created_at, id)
    )`,
    `CREATE TABLE IF NOT EXISTS tenant_gpu_usage (
      tenant TEXT NOT NULL,
      period_start TIMESTAMPTZ NOT NULL,
      gpu_seconds DOUBLE PRECISION NOT NULL,
      PRIMARY KEY (tenant, period_start)
    )`,
  ],
};
