/** Reputation of Kis from redundant execution; a quarantined Ki takes no new work until released. */
export const migration002 = {
  version: 2,
  name: 'node-reputation',
  statements: [
    `CREATE TABLE IF NOT EXISTS node_reputation (
      node_id TEXT PRIMARY KEY,
      score BIGINT NOT NULL,
      agreed BIGINT NOT NULL,
      disagreed BIGINT NOT NULL,
      quarantined BOOLEAN NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL
    )`,
  ],
};
