/**
 * What an operator or the An's circuit breaker decided about a node, keyed by its stable identity
 * (so it outlives a rescheduled pod): `state` says whether it takes new work (`active`), takes none
 * (`cordoned`), or takes none and is expected to run empty (`draining`); a bench keeps it out of
 * placement until `benched_until`, and `bench_count` doubles the next bench.
 */
export const migration008 = {
  version: 8,
  name: 'node-controls',
  statements: [
    `CREATE TABLE IF NOT EXISTS node_controls (
      node_id TEXT PRIMARY KEY,
      state TEXT NOT NULL CHECK (state IN ('active', 'cordoned', 'draining')),
      reason TEXT,
      changed_by TEXT,
      changed_at TIMESTAMPTZ NOT NULL,
      benched_until TIMESTAMPTZ,
      bench_reason TEXT,
      bench_count BIGINT NOT NULL DEFAULT 0
    )`,
  ],
};
