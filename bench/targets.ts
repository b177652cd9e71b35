/** The targets of shared/BENCHMARKS.md ("Targets for an-ki"), in one place. */
export const TARGETS = {
  batchTasksPerSec: 4_000,
  singleTasksPerSec: 2_500,
  latency: {
    100: { p50Ms: 5, p99Ms: 15 },
    300: { p50Ms: 8, p99Ms: 25 },
  } as Record<number, { p50Ms: number; p99Ms: number } | undefined>,
  /** Peak RSS at 1,000 tasks/s steady. */
  rssMb: { principal: 150, an: 120, ki: 100 } as Record<string, number | undefined>,
} as const;

/** The building blocks as BENCHMARKS.md measured them on this kind of machine (medians), for reference. */
export const REFERENCE = {
  amqpPersistentConfirmsMsgPerSec: 13_500,
  pgOneRowRowsPerSec: 3_180,
  pgMultiRowRowsPerSec: 101_000,
} as const;
