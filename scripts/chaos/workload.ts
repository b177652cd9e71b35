import { strict as assert } from 'node:assert';
import type { TestCluster } from '../../test/helpers/cluster';
import type { Isolation } from '../../test/helpers/isolation';
import { startEventMonitor } from './event-monitor';
import { settleAndCheck, type ExecutionLog, type PromiseCheck } from './invariants';
import { startLoad, type LoadStats } from './load';

/**
 * Fast failure detection for runs that break things on purpose: heartbeats, leases and sweeps in
 * fractions of the defaults, short DB timeouts, warnings only in the logs.
 */
export const CHAOS_NODE_ENV: Readonly<Record<string, string>> = {
  HEARTBEAT_MS: '200', SUSPECT_AFTER_MS: '700', DEAD_AFTER_MS: '1500', ELECTION_TICK_MS: '300', LEADER_LEASE_MS: '2000', TASK_LEASE_MS: '5000',
  SWEEP_INTERVAL_MS: '1000', UNPUBLISHED_GRACE_MS: '3000', LOG_LEVEL: 'warn', KI_SLOTS: '4', DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '3000',
  SHUTDOWN_GRACE_MS: '3000',
};

/** What a run promised (its 201s and refusals) and what became of it. */
export type WorkloadReport = LoadStats & PromiseCheck;

/**
 * A steady stream of chaos-work tasks into a cluster's principals, with an event monitor that
 * counts completions: the load of every run that checks the platform keeps its promises.
 */
export class Workload {
  private constructor(
    private readonly o: { databaseUrl: string; execLog: ExecutionLog },
    private readonly load: ReturnType<typeof startLoad>,
    private readonly monitor: Awaited<ReturnType<typeof startEventMonitor>>,
  ) {}

  static async start(o: { cluster: TestCluster; iso: Isolation; databaseUrl: string; execLog: ExecutionLog; ratePerSec: number; rand?: () => number }): Promise<Workload> {
    const monitor = await startEventMonitor(o.iso);
    const load = startLoad({
      principals: () => o.cluster.nodes.filter((n) => n.role === 'principal'), token: o.cluster.token('chaos', 'submitter'), ratePerSec: o.ratePerSec, rand: o.rand ?? Math.random,
    });
    return new Workload(o, load, monitor);
  }

  /** Stops the load, waits up to `settleMs` for the accepted tasks to finish, and checks every promise. */
  async finish(settleMs: number): Promise<WorkloadReport> {
    const stats = await this.load.stop();
    try {
      const check = await settleAndCheck({ databaseUrl: this.o.databaseUrl, accepted: stats.accepted, completions: this.monitor.completions, execLog: this.o.execLog, settleMs });
      return { ...stats, ...check };
    } finally {
      await this.monitor.stop().catch(() => undefined);
    }
  }

  /** For a run that failed before {@link finish}. */
  async abandon(): Promise<void> {
    await this.load.stop().catch(() => undefined);
    await this.monitor.stop().catch(() => undefined);
  }
}

/** The invariants every fault must leave intact: every 201 terminal, none completed twice, every refusal a 4xx or 503. */
export function assertPromisesKept(r: WorkloadReport, minAccepted = 20): void {
  assert.ok(r.accepted.length >= minAccepted, `the load got through: ${r.accepted.length} accepted, refused ${JSON.stringify(r.rejected)}`);
  assert.deepEqual(r.lost, [], `every 201'd task is terminal (${r.lost.length} of ${r.accepted.length} not; terminal ${JSON.stringify(r.terminal)}; rows ${JSON.stringify(r.lostRows)})`);
  assert.deepEqual(r.doubleCompletions, [], 'no task completed twice');
  assert.deepEqual(r.violations, [], 'every refusal was a 4xx or a 503');
}

/** One line for the test log: what the run did. */
export function summary(r: WorkloadReport): string {
  return `accepted ${r.accepted.length}, refused ${JSON.stringify(r.rejected)}, terminal ${JSON.stringify(r.terminal)}, executions ${r.executions}, `
    + `tasks run more than once ${r.duplicateExecutions}, same attempt run twice ${r.sameAttemptTwice.length}, retries ${r.retries}`;
}
