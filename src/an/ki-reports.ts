import { isDataError } from '../errors';
import { ATTR, SPAN, withSpan, type Metrics } from '../observability';
import type { CarriedBy, OutputChunks } from '../protocol';
import { requireSender } from '../security';
import { GroupCommitter, type TaskProgress, type TaskRepository } from '../store';
import type { Received } from '../transport';
import type { DispatchRecorder } from './dispatch-recorder';
import type { HeldTasks } from './held-tasks';
import type { KiResult, OutcomeHandler } from './outcome-handler';
import type { ReplicaVotes } from './replica-votes';
import { storableReport, type ResultLimits } from './result-check';

type ProgressRow = { id: string; attempts: number; progress: TaskProgress };

/** What {@link KiReports} needs. */
export interface KiReportsDeps {
  nodeId: string;
  repo: Pick<TaskRepository, 'saveProgress'>;
  metrics: Pick<Metrics, 'batchItems'>;
  resultLimits: ResultLimits;
  held: Pick<HeldTasks, 'current'>;
  recorder: Pick<DispatchRecorder, 'recordRunning'>;
  outcomes: Pick<OutcomeHandler, 'onResult'>;
  votes: Pick<ReplicaVotes, 'onLateAnswer'>;
  /** Passes running attempts' output on to the principals (`task.chunk`), in one message; never throws. */
  relayOutput: (items: OutputChunks[]) => void;
}

/**
 * The An's inbox: what its Kis report about the attempts they run (`task.started`,
 * `task.progress`, `task.output`, `task.result`). Reports of an attempt that is no longer current change nothing,
 * except the late answer of a redundant replica, which still counts for its reputation.
 */
export class KiReports {
  readonly #progress: GroupCommitter<ProgressRow, void>;

  constructor(private readonly d: KiReportsDeps) {
    this.#progress = new GroupCommitter<ProgressRow, void>({
      maxBatch: 200, maxConcurrent: 1,
      flush: async (items) => { await d.repo.saveProgress(items); return items.map(() => undefined); },
      // One progress message the store refuses must not drop the others of its batch.
      isItemError: isDataError,
      onBatch: (n) => d.metrics.batchItems.observe({ batch: 'progress' }, n),
    });
  }

  /**
   * A Ki reports only for itself: the Ki a payload names must be the verified sender, checked
   * before the ack so that a refusal is dead-lettered and counted (reason `sender`). Otherwise one
   * Ki could finish any task with any result, or outvote honest replicas alone.
   */
  onInbox({ msg, delivery }: Received<CarriedBy<'anInbox'>>): void {
    if (msg.type === 'task.started' || msg.type === 'task.result') requireSender(msg, msg.payload.ki, 'ki');
    delivery.ack();
    const { held } = this.d;
    switch (msg.type) {
      case 'task.started': {
        const p = msg.payload;
        const t = held.current(p.taskId, p.attempt, p.ki);
        if (!t) return;
        t.runs.get(p.ki)!.startedAtMs = p.startedAtMs;
        if (t.firstStartedAtMs !== undefined) return;
        t.firstStartedAtMs = p.startedAtMs;
        // An unrecorded dispatch is recorded as running straight away (or once its record is stored).
        if (!t.claim) this.d.recorder.recordRunning(p.taskId, p.attempt, p.startedAtMs);
        return;
      }
      case 'task.progress': {
        const p = msg.payload;
        // Progress names no Ki: only a Ki that runs the current attempt may report it.
        if (!held.current(p.taskId, p.attempt, msg.sender)) return;
        this.#progress.submit({ id: p.taskId, attempts: p.attempt, progress: { fraction: p.fraction, ...(p.message ? { message: p.message } : {}), atMs: Date.now() } }).catch(() => undefined);
        return;
      }
      case 'task.output': {
        // Only the Ki of the current attempt streams, and of replicas only the first: the
        // client sees one output, not one per replica.
        const relayed = msg.payload.items.filter((p) => {
          const t = held.current(p.taskId, p.attempt, msg.sender);
          return t !== undefined && t.runs.keys().next().value === msg.sender;
        });
        if (relayed.length > 0) this.d.relayOutput(relayed);
        return;
      }
      case 'task.result': {
        const { ki, items } = msg.payload;
        for (const item of items) {
          const p: KiResult = { ...storableReport(item, this.d.resultLimits), ki };
          const t = held.current(p.taskId, p.attempt, ki);
          if (t) void withSpan(SPAN.taskResult, { [ATTR.taskId]: p.taskId, [ATTR.attempt]: p.attempt, [ATTR.kiId]: ki, [ATTR.nodeId]: this.d.nodeId }, () => this.d.outcomes.onResult(t, p), item.trace ?? msg.trace);
          else this.d.votes.onLateAnswer(p); // or a late result of a replaced attempt: it changes nothing
        }
        return;
      }
    }
  }

  /** Stores the progress still batched. */
  drain(): Promise<void> {
    return this.#progress.drain();
  }
}
