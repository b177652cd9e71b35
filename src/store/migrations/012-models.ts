/**
 * Models for interactive inference: the deployed models (what the leader keeps warm, between
 * `warm_min` and `warm_max` Kis) and the model a task names.
 *
 * `tasks_model_created_idx` lets the leader measure each model's demand (arrivals, completions,
 * queue age over a recent window) without reading the whole table. It is not partial: CockroachDB
 * refuses a partial index whose predicate names a column added in the same transaction
 * (cockroachdb/cockroach#83593); rows without a model sit together under NULL and are never read.
 */
export const migration012 = {
  version: 12,
  name: 'models',
  statements: [
    'ALTER TABLE tasks ADD COLUMN IF NOT EXISTS model TEXT',
    'CREATE INDEX IF NOT EXISTS tasks_model_created_idx ON tasks (model, created_at)',
    `CREATE TABLE IF NOT EXISTS models (
      name TEXT PRIMARY KEY,
      type TEXT NOT NULL,
      requirements JSONB NOT NULL,
      warm_min INT NOT NULL,
      warm_max INT NOT NULL,
      config JSONB NOT NULL,
      created_by TEXT NOT NULL,
      created_at TIMESTAMPTZ NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL
    )`,
  ],
};
