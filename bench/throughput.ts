import { AnswerTally, type RestClient } from './rest-client';
import type { TaskDb } from './task-db';

/** Outcome of one throughput phase. */
export interface ThroughputResult {
  mode: 'batch' | 'single';
  requested: number;
  /** Tasks the platform answered 201 for. */
  accepted: number;
  /** Tasks seen terminal in the DB when the phase ended. */
  terminal: number;
  completed: boolean;
  /** First submit to the last terminal state stored (DB `updated_at`). */
  elapsedMs: number;
  tasksPerSec: number;
  /** First submit to the last 201: the admission rate alone. */
  submitMs: number;
  submitTasksPerSec: number;
  answers: Record<string, number>;
  unexpectedSamples: string[];
  /** Tasks of the phase by status at its end (shows stuck work when not completed). */
  statusCounts: Record<string, number>;
}

export interface ThroughputPlan {
  mode: 'batch' | 'single';
  tasks: number;
  /** Tasks per request: 1 for single `POST /tasks`. */
  perRequest: number;
  concurrency: number;
  /** Budget for the whole phase; tasks not terminal by then are reported, not waited for. */
  timeoutMs: number;
}

const echo = (i: number) => ({ type: 'echo', payload: { i } });

/**
 * Closed-loop submitters (`concurrency` of them, each sending its next request when the last one
 * is answered) push `tasks` echo tasks; completion is watched in the DB every 100 ms. Throughput
 * counts from the first request sent to the last terminal state stored.
 */
export async function runThroughput(plan: ThroughputPlan, rest: RestClient, db: TaskDb, signal: AbortSignal): Promise<ThroughputResult> {
  const tally = new AnswerTally();
  const requests = Math.ceil(plan.tasks / plan.perRequest);
  const sinceMs = Date.now() - 1;
  const deadlineMs = sinceMs + plan.timeoutMs;
  let nextRequest = 0;
  let accepted = 0;
  let lastAcceptMs = sinceMs;
  let submitting = true;

  const submitter = async (): Promise<void> => {
    while (!signal.aborted && Date.now() < deadlineMs) {
      const r = nextRequest++;
      if (r >= requests) return;
      const n = Math.min(plan.perRequest, plan.tasks - r * plan.perRequest);
      const answer = plan.mode === 'batch'
        ? await rest.post('/tasks/batch', { tasks: Array.from({ length: n }, (_, k) => echo(r * plan.perRequest + k)) })
        : await rest.post('/tasks', echo(r));
      tally.add(answer);
      if (answer.status === 201) {
        accepted += n;
        lastAcceptMs = Date.now();
      }
    }
  };

  const startMs = Date.now();
  const submitters = Promise.all(Array.from({ length: plan.concurrency }, submitter)).finally(() => { submitting = false; });
  const wait = db.waitTerminal(sinceMs, () => (submitting ? undefined : accepted), deadlineMs, signal);
  await submitters;
  const waited = await wait;
  const span = await db.spanSince(sinceMs);
  const endMs = waited.done && span.lastTerminalMs !== null ? span.lastTerminalMs : waited.seenAtMs;
  const elapsedMs = Math.max(1, endMs - startMs);
  const submitMs = Math.max(1, lastAcceptMs - startMs);
  return {
    mode: plan.mode,
    requested: plan.tasks,
    accepted,
    terminal: waited.terminal,
    completed: waited.done,
    elapsedMs,
    tasksPerSec: (waited.terminal / elapsedMs) * 1000,
    submitMs,
    submitTasksPerSec: (accepted / submitMs) * 1000,
    answers: tally.byStatus,
    unexpectedSamples: tally.samples,
    statusCounts: await db.statusCountsSince(sinceMs),
  };
}
