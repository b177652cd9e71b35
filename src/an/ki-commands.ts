import { setTimeout as sleep } from 'node:timers/promises';
import { currentTraceparent, type Metrics } from '../observability';
import { type AssignItem, type ModelDescriptor, type TopologyNames, cancelRoute, kiInbox } from '../protocol';
import { ASSIGN_RESEND_RETRY, hasAttemptLeft, nextDelayMs, type RetryPolicy } from '../task';
import { BatchSender, type MessageBus } from '../transport';
import type { HeldTask } from './in-flight';

/** What {@link KiCommands} needs. */
export interface KiCommandsDeps {
  nodeId: string;
  /** `an.assignBatchMax`: most assignments per `task.assign` message. */
  assignBatchMax: number;
  bus: Pick<MessageBus, 'send' | 'sendMany'>;
  names: TopologyNames;
  metrics: Pick<Metrics, 'batchItems'>;
  /** An assignment could not be sent to `ki`, however often it was tried: that replica will never run. */
  onAssignFailed: (t: HeldTask, ki: string, err: Error) => Promise<void>;
  /** The load descriptor of a model, sent with each task naming it so the Ki can load it cold. */
  modelOf?: (name: string) => ModelDescriptor | undefined;
  /** @defaultValue {@link ASSIGN_RESEND_RETRY} */
  resend?: RetryPolicy;
}

/** What the An tells its Kis: run an attempt (`task.assign`, batched per Ki) or stop one (`task.cancel`). */
export class KiCommands {
  /** Assignments, one message per Ki for all tasks placed on it at once. */
  readonly #assigns: BatchSender<AssignItem>;

  constructor(private readonly d: KiCommandsDeps) {
    this.#assigns = new BatchSender<AssignItem>({
      maxItems: d.assignBatchMax,
      send: (ki, items) => d.bus.sendMany(kiInbox(d.names, ki), 'task.assign', items, (batch) => ({ v: 1, an: d.nodeId, items: batch })),
      onBatch: (n) => d.metrics.batchItems.observe({ batch: 'assign' }, n),
    });
  }

  /** Assigns the current attempt of `t` to every Ki it was placed on, in the current trace. */
  assign(t: HeldTask): void {
    const trace = currentTraceparent() ?? t.trace;
    const model = t.spec.model ? this.d.modelOf?.(t.spec.model) : undefined;
    for (const [ki, run] of t.runs) this.#send(t, ki, { task: t.spec, attempt: t.attempts, gpus: run.gpus, ...(trace ? { trace } : {}), ...(model ? { model } : {}) }, 1);
  }

  /**
   * A failed publish is most often this An's own broker connection dropping, the assignment
   * perhaps delivered: the same attempt goes again once the broker is back, rather than the task
   * running as a new attempt beside a Ki that may well run it already.
   */
  #send(t: HeldTask, ki: string, item: AssignItem, tryNo: number): void {
    const placed = () => t.runs.has(ki) && t.attempts === item.attempt;
    const policy = this.d.resend ?? ASSIGN_RESEND_RETRY;
    this.#assigns.add(ki, item).catch(async (err: Error) => {
      if (!placed() || !hasAttemptLeft(tryNo, policy.maxAttempts)) return this.d.onAssignFailed(t, ki, err);
      await sleep(nextDelayMs(policy, tryNo));
      if (placed()) this.#send(t, ki, item, tryNo + 1);
    });
  }

  /** Asks `ki` to stop its run of the attempt. Never rejects: a Ki that misses it reports a result nobody waits for. */
  cancel(ki: string, t: HeldTask, reason: string): Promise<void> {
    return this.d.bus.send(cancelRoute(this.d.names, ki), 'task.cancel', { v: 1, taskId: t.spec.id, reason, attempt: t.attempts })
      .catch(() => undefined);
  }

  /** Sends the assignments still batched. */
  drain(): Promise<void> {
    return this.#assigns.drain();
  }
}
