import type { Logger, Metrics } from '../observability';
import { planTick, type RunOutcome } from '../schedule';
import type { DueSchedule, LeaderFence, ScheduleRepository } from '../store';
import { isTerminal, type TaskStatus } from '../task';
import type { TaskAdmission } from './admission';

export interface ScheduleTickerDeps {
  schedules: ScheduleRepository;
  /** Builds a run's task with the submission defaults, and publishes it once stored. */
  admission: Pick<TaskAdmission, 'build' | 'assertRoomFor' | 'admitStored'>;
  metrics: Metrics;
  log: Logger;
  /** Most due schedules one pass runs. */
  duePerPass: number;
  /** How late a tick may be and still run whatever the catch-up policy (longer than a failover). */
  failoverGraceMs: number;
}

/** Claims run at once per pass: enough for many due schedules, few enough not to drain the pool. */
const CLAIM_CONCURRENCY = 8;

/**
 * The leader's schedule runs. Each pass reads the due schedules and claims one tick of each in a
 * transaction fenced by the leader's term, which also inserts the tick's task: a leader killed at
 * any point leaves either both or neither, and the next leader goes on from the stored last tick.
 */
export class ScheduleTicker {
  constructor(private readonly d: ScheduleTickerDeps) {}

  /** One pass, one tick per due schedule (a backlog left by a failover is run over the next passes); returns the runs it recorded. */
  async runDue(fence: LeaderFence, now = new Date()): Promise<number> {
    const due = await this.d.schedules.findDue(now, this.d.duePerPass);
    let runs = 0;
    for (let i = 0; i < due.length; i += CLAIM_CONCURRENCY) {
      const outcomes = await Promise.all(due.slice(i, i + CLAIM_CONCURRENCY).map((s) => this.#runOne(s, fence, now.getTime()).catch((err: Error) => {
        this.d.log.warn({ scheduleId: s.id, err: err.message }, 'schedule run failed; the next pass tries again');
        return null;
      })));
      runs += outcomes.filter((o) => o !== null).length;
    }
    return runs;
  }

  async #runOne(s: DueSchedule, fence: LeaderFence, nowMs: number): Promise<RunOutcome | null> {
    const plan = planTick({ spec: s, catchup: s.catchup, nextRunAtMs: s.nextRunAt.getTime(), nowMs, failoverGraceMs: this.d.failoverGraceMs });
    const read = { scheduleId: s.id, revision: s.revision, lastTickAt: s.lastRun?.tickAt ?? null, nextRunAt: new Date(plan.nextRunAtMs) };
    if (plan.droppedTicks) this.d.log.info({ scheduleId: s.id, from: s.nextRunAt.toISOString(), ran: plan.tickAtMs !== null, catchup: s.catchup }, 'schedule ticks missed');
    if (plan.tickAtMs === null) {
      await this.d.schedules.skipTo(read, fence);
      return null;
    }
    const tickAt = new Date(plan.tickAtMs);
    // A task that is gone (deleted) no longer runs either.
    const previousRuns = s.lastTaskStatus !== null && !isTerminal(s.lastTaskStatus as TaskStatus);
    if (s.overlap === 'skip' && previousRuns) {
      if (!(await this.d.schedules.claimTick({ ...read, tickAt, outcome: 'skipped-overlap' }, fence))) return null;
      this.d.metrics.scheduleRuns.inc({ outcome: 'skipped-overlap' });
      return 'skipped-overlap';
    }
    this.d.admission.assertRoomFor(1);
    const task = { ...this.d.admission.build(s.task, s.owner), scheduleId: s.id, scheduleTickAt: tickAt };
    if (!(await this.d.schedules.claimTick({ ...read, tickAt, outcome: 'created', task }, fence))) return null;
    this.d.admission.admitStored(task);
    this.d.metrics.scheduleRuns.inc({ outcome: 'created' });
    return 'created';
  }

  /** Counts schedules by state into the gauge. */
  async reportCounts(): Promise<void> {
    const c = await this.d.schedules.countByState();
    this.d.metrics.schedules.set({ state: 'active' }, c.active);
    this.d.metrics.schedules.set({ state: 'paused' }, c.paused);
  }
}
