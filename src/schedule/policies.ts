/** What a tick does while the previous run's task is not terminal yet. */
export const OVERLAP_POLICIES = ['skip', 'allow'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** What happens to ticks missed while no leader ran the schedule. */
export const CATCHUP_POLICIES = ['none', 'latest'] as const;
export type CatchupPolicy = (typeof CATCHUP_POLICIES)[number];

/** How a claimed tick ended: a task, or a run skipped because the previous task still ran. */
export const RUN_OUTCOMES = ['created', 'skipped-overlap'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];
