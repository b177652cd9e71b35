export { cronProblem, isKnownTimezone, nextTickAfter, latestTickAtOrBefore, type CronSpec } from './cron';
export { planTick, type TickPlan, type TickPlanInput } from './tick-plan';
export { OVERLAP_POLICIES, CATCHUP_POLICIES, RUN_OUTCOMES, type OverlapPolicy, type CatchupPolicy, type RunOutcome } from './policies';
