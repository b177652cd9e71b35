import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from '../config';
import type { Logger, Metrics } from '../observability';
import { anInbox, MAX_OUTPUT_ITEMS, type ResultItem, type TaskErrorData, type TopologyNames } from '../protocol';
import { hasAttemptLeft, nextDelayMs, RESULT_REPORT_RETRY } from '../task';
import { BatchSender, type MessageBus } from '../transport';
import { OutputBatcher } from './output-batcher';
import { OutputStream } from './output-stream';
import { throttledProgress } from './progress-throttle';
import type { Assignment } from './running-task';

/** Characters of output past which a message to an An goes at once (far below MAX_MESSAGE_BYTES once sealed). */
const OUTPUT_MESSAGE_CHARS = 256 * 1024;

/** What {@link AttemptReports} needs. */
export interface AttemptReportsDeps {
  nodeId: string;
  config: AppConfig;
  bus: MessageBus;
  names: TopologyNames;
  log: Logger;
  metrics: Metrics;
}

/**
 * What a Ki tells the An of each attempt it runs: its start (unless it ends first), progress,
 * output and result. Results and output are batched per An across the Ki's attempts.
 */
export class AttemptReports {
  /** Results, one message per An for all attempts that ended while its previous one was on the way. */
  readonly #results: BatchSender<ResultItem>;
  /** Output of every running attempt, one message per An and flush. */
  readonly #output: OutputBatcher;

  constructor(private readonly d: AttemptReportsDeps) {
    this.#results = new BatchSender<ResultItem>({
      maxItems: d.config.ki.resultBatchMax,
      send: (an, items) => d.bus.sendMany(anInbox(d.names, an), 'task.result', items, (batch) => ({ v: 1, ki: d.nodeId, items: batch })),
      onBatch: (n) => d.metrics.batchItems.observe({ batch: 'result' }, n),
    });
    this.#output = new OutputBatcher({
      flushMs: d.config.ki.streamFlushMs, maxItems: MAX_OUTPUT_ITEMS, maxChars: OUTPUT_MESSAGE_CHARS,
      send: (an, items) => d.bus.send(anInbox(d.names, an), 'task.output', { v: 1, items }),
    });
  }

  /**
   * Reports the start after `ki.startedReportDelayMs`: tasks that end sooner go straight to their
   * result (which carries the start time), one message and one row write less per short task.
   * Returns what cancels it.
   */
  startedLater(a: Assignment, startedAtMs: number, log: Logger, trace?: string): () => void {
    const timer = setTimeout(() => {
      void this.d.bus.send(anInbox(this.d.names, a.an), 'task.started', { v: 1, taskId: a.task.id, attempt: a.attempt, ki: this.d.nodeId, startedAtMs }, trace ? { trace } : {})
        .catch((err: Error) => log.debug({ err: err.message }, 'start not reported'));
    }, this.d.config.ki.startedReportDelayMs);
    return () => clearTimeout(timer);
  }

  /** The attempt's `ctx.progress`: throttled, never throwing. */
  progress(a: Assignment): (fraction: number, message?: string) => void {
    return throttledProgress(this.d.config.ki.progressMinIntervalMs, (fraction, message) => {
      void this.d.bus.send(anInbox(this.d.names, a.an), 'task.progress', { v: 1, taskId: a.task.id, attempt: a.attempt, fraction, ...(message ? { message } : {}) }).catch(() => undefined);
    });
  }

  /** The attempt's output stream: handed on at once, gathered with the Ki's other attempts' for the An. */
  output(a: Assignment, log: Logger): OutputStream {
    return new OutputStream({
      taskId: a.task.id, attempt: a.attempt, maxChars: this.d.config.ki.streamMaxChars, flushMs: 0,
      send: (body, last) => this.#output.add(a.an, body, last),
      flushOnClose: () => this.#output.flush(a.an),
      onTruncated: (max) => log.info({ maxChars: max }, 'output stream truncated (KI_STREAM_MAX_CHARS)'),
    });
  }

  /** Sends the outcome to the An, retrying a few times; the An's lease recovery covers the rest. */
  async result(a: Assignment, startedAtMs: number, error?: TaskErrorData, result?: unknown, trace?: string): Promise<void> {
    const base = { taskId: a.task.id, attempt: a.attempt, startedAtMs, finishedAtMs: Date.now(), ...(trace ? { trace } : {}) };
    const item: ResultItem = error ? { ...base, ok: false, error } : { ...base, ok: true, result: result ?? null };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#results.add(a.an, item);
        return;
      } catch (err) {
        const last = !hasAttemptLeft(attempt, RESULT_REPORT_RETRY.maxAttempts);
        this.d.log.warn({ taskId: a.task.id, err: (err as Error).message, attempt }, last ? 'result not delivered; the An\'s lease recovery runs the task again' : 'result not delivered yet');
        if (last) return;
        await sleep(nextDelayMs(RESULT_REPORT_RETRY, attempt));
      }
    }
  }

  /** Waits for the results still batched. */
  drain(): Promise<void> {
    return this.#results.drain();
  }
}
