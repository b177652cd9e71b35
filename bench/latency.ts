import { sleep, WallClock } from './clock';
import { AnswerTally, type RestClient } from './rest-client';
import { roundSummary, summarize, type Summary } from './stats';
import type { TaskDb } from './task-db';

/** Outcome of one open-loop phase at a fixed offered rate. */
export interface LatencyResult {
  rateOffered: number;
  durationSec: number;
  sent: number;
  accepted: number;
  terminal: number;
  completed: boolean;
  /** Send rate actually achieved by the client (sends ÷ phase length). */
  rateSent: number;
  /** Requests not sent because too many were unanswered: the client's overload guard. */
  skipped: number;
  /** Worst lag of a send behind its schedule (timer jitter or a busy client), ms. */
  maxScheduleLagMs: number;
  /** Client send → terminal state stored (DB `updated_at` of the terminal row). The headline figure. */
  endToEnd: Summary;
  /** Client send → 201 received. */
  http: Summary;
  /** Client send → admitted (`created_at`, set by the principal before its insert). */
  toAdmitted: Summary;
  /** Admitted → Ki reported the end (`finished_at`): insert, publish, An pull, dispatch, run, report. */
  admittedToFinished: Summary;
  /** Admitted → publish confirmed and recorded (`published_at`): insert commit, publish with confirm, mark. */
  admittedToPublished: Summary;
  /** Admitted → the Ki started it (`started_at`): insert, publish, An pull, dispatched UPDATE, assign message. */
  admittedToStarted: Summary;
  /** Ki started → Ki finished: the execution itself (an echo is a no-op). */
  startedToFinished: Summary;
  /** Ki reported the end → terminal state stored (`updated_at`): the An's group-committed UPDATE. */
  finishedToStored: Summary;
  answers: Record<string, number>;
  unexpectedSamples: string[];
}

export interface LatencyPlan {
  ratePerSec: number;
  durationSec: number;
  /** Unanswered requests beyond which sends are skipped (and counted) rather than piling up. */
  maxOutstanding: number;
  /** How long to wait after the last send for the stragglers to finish. */
  drainTimeoutMs: number;
}

interface Sent {
  sendMs: number;
  answerMs: number;
  id?: string;
}

/**
 * Open loop: request i leaves at start + i / rate whatever happened to the earlier ones (a closed
 * loop would slow down with the system and hide its queueing). Each send time is taken on a
 * sub-millisecond wall clock; afterwards the stored `created_at`, `finished_at` and `updated_at`
 * of every accepted task are read back from the DB in one query, so no task is polled one by one.
 */
export async function runLatency(plan: LatencyPlan, rest: RestClient, db: TaskDb, signal: AbortSignal): Promise<LatencyResult> {
  const clock = new WallClock();
  const tally = new AnswerTally();
  const sent: Sent[] = [];
  const answers: Promise<void>[] = [];
  const total = Math.round(plan.ratePerSec * plan.durationSec);
  const intervalMs = 1000 / plan.ratePerSec;
  let outstanding = 0;
  let skipped = 0;
  let maxLagMs = 0;
  const startMs = clock.nowMs();

  for (let i = 0; i < total && !signal.aborted;) {
    const now = clock.nowMs();
    // Send everything that is due; a late timer sends a small burst to get back on schedule.
    while (i < total && startMs + i * intervalMs <= now) {
      maxLagMs = Math.max(maxLagMs, now - (startMs + i * intervalMs));
      if (outstanding >= plan.maxOutstanding) { skipped++; i++; continue; }
      const record: Sent = { sendMs: clock.nowMs(), answerMs: NaN };
      sent.push(record);
      outstanding++;
      answers.push(rest.post('/tasks', { type: 'echo', payload: { i } }).then((a) => {
        record.answerMs = clock.nowMs();
        outstanding--;
        tally.add(a);
        if (a.status === 201) record.id = (JSON.parse(a.body) as { id: string }).id;
      }));
      i++;
    }
    const nextDue = startMs + i * intervalMs;
    await sleep(Math.max(0, Math.min(50, nextDue - clock.nowMs() - 0.5)));
  }
  const sendEndMs = clock.nowMs();
  await Promise.all(answers);

  const ids = sent.flatMap((s) => (s.id ? [s.id] : []));
  const drainDeadline = Date.now() + plan.drainTimeoutMs;
  let terminal = await db.countTerminalOf(ids);
  while (terminal < ids.length && Date.now() < drainDeadline && !signal.aborted) {
    await sleep(100);
    terminal = await db.countTerminalOf(ids);
  }

  const stored = new Map((await db.times(ids)).map((t) => [t.id, t]));
  const e2e: number[] = [], http: number[] = [], toAdmitted: number[] = [], toFinished: number[] = [], toStored: number[] = [];
  const toPublished: number[] = [], toStarted: number[] = [], running: number[] = [];
  for (const s of sent) {
    if (Number.isFinite(s.answerMs)) http.push(s.answerMs - s.sendMs);
    const t = s.id ? stored.get(s.id) : undefined;
    if (!t || !['succeeded', 'failed', 'cancelled'].includes(t.status)) continue;
    e2e.push(t.updatedMs - s.sendMs);
    toAdmitted.push(t.createdMs - s.sendMs);
    if (t.publishedMs !== null) toPublished.push(t.publishedMs - t.createdMs);
    if (t.startedMs !== null) toStarted.push(t.startedMs - t.createdMs);
    if (t.startedMs !== null && t.finishedMs !== null) running.push(t.finishedMs - t.startedMs);
    if (t.finishedMs !== null) {
      toFinished.push(t.finishedMs - t.createdMs);
      toStored.push(t.updatedMs - t.finishedMs);
    }
  }
  const durationSec = Math.max(0.001, (sendEndMs - startMs) / 1000);
  return {
    rateOffered: plan.ratePerSec,
    durationSec,
    sent: sent.length,
    accepted: ids.length,
    terminal,
    completed: terminal === ids.length && ids.length === total,
    rateSent: sent.length / durationSec,
    skipped,
    maxScheduleLagMs: maxLagMs,
    endToEnd: roundSummary(summarize(e2e)),
    http: roundSummary(summarize(http)),
    toAdmitted: roundSummary(summarize(toAdmitted)),
    admittedToFinished: roundSummary(summarize(toFinished)),
    admittedToPublished: roundSummary(summarize(toPublished)),
    admittedToStarted: roundSummary(summarize(toStarted)),
    startedToFinished: roundSummary(summarize(running)),
    finishedToStored: roundSummary(summarize(toStored)),
    answers: tally.byStatus,
    unexpectedSamples: tally.samples,
  };
}
