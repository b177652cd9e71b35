import type { Logger, Metrics } from '../observability';
import type { ReputationRepository } from '../store';
import type { HeldTask, Replica, TaskOutcome } from './in-flight';
import type { HeldTasks } from './held-tasks';
import type { KiCommands } from './ki-commands';
import type { KiPool } from './ki-pool';
import { canonicalJson, type TallyOutcome } from './vote-tally';

/** What {@link ReplicaVotes} needs. */
export interface ReplicaVotesDeps {
  /** `an.minorityPenalty`: reputation lost by a Ki in the minority of a vote. */
  minorityPenalty: number;
  /** `an.quarantineAt`: the score at or below which a Ki is quarantined. */
  quarantineAt: number;
  pool: Pick<KiPool, 'release' | 'setQuarantined' | 'keyOf'>;
  reputation: Pick<ReputationRepository, 'record' | 'quarantined'>;
  held: Pick<HeldTasks, 'releaseRuns'>;
  commands: Pick<KiCommands, 'cancel'>;
  log: Logger;
  metrics: Pick<Metrics, 'redundantTasks' | 'replicaAnswers' | 'kiQuarantines' | 'kisQuarantined'>;
  /** Runs a placement pass (a late replica freed its slot). */
  wake: () => void;
}

/** How a decided vote ends its task: the transition that stores it, and what it stores. */
export interface VoteDecision {
  transition: 'succeed' | 'fail';
  outcome: TaskOutcome;
}

/** A task decided while replicas were still out: their answers are checked against the agreed one. */
interface Verifying {
  attempt: number;
  agreed: string;
  runs: Map<string, Replica>;
}

/**
 * Votes of redundant replicas, seen from the An: settles a decided tally (cancels or keeps
 * checking the replicas still out, moves reputation, quarantines liars) and judges the late
 * answers of replicas still running after the vote.
 */
export class ReplicaVotes {
  /** Replicas still running after their task's vote was decided: their answers only update reputation. */
  readonly #verifying = new Map<string, Verifying>();

  constructor(private readonly d: ReplicaVotesDeps) {}

  /** Tasks whose late replicas are still checked. @internal */
  get verifyingCount(): number {
    return this.#verifying.size;
  }

  /**
   * What a tally's outcome means for its task: nothing yet while pending, else the outcome to
   * store. Before it returns, the replicas still out are cancelled or (once agreed) kept for
   * checking, the task's slots released and the voters' reputation recorded.
   */
  async settle(t: HeldTask, outcome: TallyOutcome): Promise<VoteDecision | undefined> {
    if (outcome.kind === 'pending') return undefined;
    if (outcome.kind === 'agreed' && t.runs.size > 0) {
      // The task is decided, but replicas still out are checked against the agreed answer when
      // they report: that is how a lying Ki is found. Their slots stay reserved until then.
      this.#verifying.set(t.spec.id, { attempt: t.attempts, agreed: canonicalJson(outcome.result), runs: new Map(t.runs) });
      t.runs.clear();
    }
    for (const ki of t.runs.keys()) void this.d.commands.cancel(ki, t, 'vote decided');
    this.d.held.releaseRuns(t);
    this.#count(outcome);
    if (outcome.kind === 'agreed') {
      if (outcome.minority.length > 0) {
        const quarantined = await this.d.reputation.record(this.#keys(outcome.majority), this.#keys(outcome.minority), this.d.minorityPenalty, this.d.quarantineAt).catch(() => []);
        this.d.log.warn({ taskId: t.spec.id, minority: outcome.minority, quarantined }, 'replicas disagreed with the quorum');
        if (quarantined.length) this.#quarantine(quarantined, await this.d.reputation.quarantined().catch(() => new Set(quarantined)));
      } else {
        void this.d.reputation.record(this.#keys(outcome.majority), [], this.d.minorityPenalty, this.d.quarantineAt).catch(() => undefined);
      }
      return { transition: 'succeed', outcome: { result: outcome.result, error: null } };
    }
    return { transition: 'fail', outcome: { result: null, error: { code: 'NO_QUORUM', message: `only ${outcome.best} of ${t.spec.redundancy?.replicas} replicas agreed; ${t.spec.redundancy?.quorum} needed`, retryable: false } } };
  }

  /** A replica that answered after its task's vote was decided: agreeing or not moves its reputation. */
  onLateAnswer(p: { taskId: string; attempt: number; ki: string; ok: boolean; result?: unknown }): void {
    const v = this.#verifying.get(p.taskId);
    const run = v?.runs.get(p.ki);
    if (!v || !run || v.attempt !== p.attempt) return;
    this.d.pool.release(p.ki, run.reservation);
    v.runs.delete(p.ki);
    if (v.runs.size === 0) this.#verifying.delete(p.taskId);
    this.d.wake();
    const agrees = p.ok && canonicalJson(p.result ?? null) === v.agreed;
    this.d.metrics.replicaAnswers.inc({ verdict: agrees ? 'agreed' : 'disagreed' });
    void this.d.reputation.record(agrees ? this.#keys([p.ki]) : [], agrees ? [] : this.#keys([p.ki]), this.d.minorityPenalty, this.d.quarantineAt).then(async (quarantined) => {
      if (!agrees) this.d.log.warn({ taskId: p.taskId, ki: p.ki, quarantined }, 'replica disagreed with the decided result');
      if (quarantined.length) this.#quarantine(quarantined, await this.d.reputation.quarantined());
    }).catch(() => undefined);
  }

  /** A decided vote, counted: how it ended, and each voter's answer against the agreed result. */
  #count(outcome: Exclude<TallyOutcome, { kind: 'pending' }>): void {
    if (outcome.kind === 'impossible') {
      this.d.metrics.redundantTasks.inc({ outcome: 'no_quorum' });
      return;
    }
    this.d.metrics.redundantTasks.inc({ outcome: outcome.minority.length === 0 ? 'unanimous' : 'majority' });
    this.d.metrics.replicaAnswers.inc({ verdict: 'agreed' }, outcome.majority.length);
    if (outcome.minority.length > 0) this.d.metrics.replicaAnswers.inc({ verdict: 'disagreed' }, outcome.minority.length);
  }

  /** Kis this vote quarantined: no new work for them here, and counted. */
  #quarantine(newly: readonly string[], all: ReadonlySet<string>): void {
    this.d.metrics.kiQuarantines.inc(newly.length);
    this.d.metrics.kisQuarantined.set(all.size);
    this.d.pool.setQuarantined(all);
  }

  /** Reputation is kept under the Kis' stable identities: it follows a rescheduled pod. */
  #keys(kis: readonly string[]): string[] {
    return kis.map((ki) => this.d.pool.keyOf(ki));
  }

  /** A Ki is gone: its late answers will never come. */
  forgetKi(ki: string): void {
    for (const v of this.#verifying.values()) v.runs.delete(ki);
  }
}
