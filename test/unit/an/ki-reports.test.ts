import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import type { HeldTask } from '../../../src/an/in-flight';
import { KiReports } from '../../../src/an/ki-reports';
import type { KiResult } from '../../../src/an/outcome-handler';
import { MessageRejectedError } from '../../../src/errors';
import { createMetrics } from '../../../src/observability/metrics';
import { fakeDelivery, heldOnPool, heldTask } from './parts-fixtures';

/** Ki reports over one held task of attempt 2 that runs on ki-1; what they lead to is recorded. */
function reportsOn() {
  const { held } = heldOnPool();
  const t: HeldTask = heldTask({ attempts: 2, runs: new Map([['ki-1', { gpus: [], reservation: null }]]) });
  held.add(t);
  const running: [string, number, number][] = [];
  const results: KiResult[] = [];
  const late: { taskId: string; ki: string }[] = [];
  const progress: { id: string; attempts: number }[] = [];
  const relayed: { taskId: string; seq: number; chunks: string[] }[] = [];
  const reports = new KiReports({
    nodeId: 'an-1', repo: { saveProgress: (items) => { progress.push(...items); return Promise.resolve(); } }, metrics: createMetrics(new Registry(), 'an'),
    resultLimits: { maxBytes: 1 << 20, maxDepth: 64 }, held, recorder: { recordRunning: (...a) => { running.push(a); } },
    outcomes: { onResult: (_t, p) => { results.push(p); return Promise.resolve(); } }, votes: { onLateAnswer: (p) => { late.push(p); } },
    relayOutput: (items) => { relayed.push(...items); },
  });
  const deliver = (type: string, payload: object, sender = 'ki-1') => {
    const delivery = fakeDelivery();
    reports.onInbox({ msg: { id: 'm', type, sender, senderRole: 'ki', timestampMs: Date.now(), payload: { v: 1, ...payload } }, delivery } as never);
    return delivery;
  };
  return { reports, t, held, running, results, late, progress, relayed, deliver };
}

describe('KiReports: what the An hears from its Kis', () => {
  it('records the first start of the current attempt as running, once', () => {
    const { t, running, deliver } = reportsOn();
    assert.equal(deliver('task.started', { taskId: t.spec.id, attempt: 2, ki: 'ki-1', startedAtMs: 5 }).settled, 'ack');
    deliver('task.started', { taskId: t.spec.id, attempt: 2, ki: 'ki-1', startedAtMs: 6 });
    deliver('task.started', { taskId: t.spec.id, attempt: 1, ki: 'ki-1', startedAtMs: 7 });
    assert.deepEqual(running, [[t.spec.id, 2, 5]]);
    assert.equal(t.firstStartedAtMs, 5);
  });

  it('refuses, before the ack, a report that names another Ki than its sender', () => {
    const { deliver, results } = reportsOn();
    assert.throws(() => deliver('task.result', { ki: 'ki-1', items: [] }, 'ki-2'), MessageRejectedError);
    assert.equal(results.length, 0);
  });

  it('stores progress only from a Ki that runs the current attempt', async () => {
    const { reports, t, progress, deliver } = reportsOn();
    deliver('task.progress', { taskId: t.spec.id, attempt: 2, fraction: 0.5 }, 'ki-2');
    deliver('task.progress', { taskId: t.spec.id, attempt: 2, fraction: 0.5 }, 'ki-1');
    await reports.drain();
    assert.deepEqual(progress.map((p) => [p.id, p.attempts]), [[t.spec.id, 2]]);
  });

  it('relays output only from the Ki of the current attempt, and of replicas only from the first', () => {
    const { t, relayed, deliver } = reportsOn();
    t.runs.set('ki-2', { gpus: [], reservation: null });
    const piece = (attempt: number, seq: number, chunks: string[]) => ({ v: 1, taskId: t.spec.id, attempt, seq, chunks });
    deliver('task.output', { items: [piece(2, 0, ['a', 'b'])] }, 'ki-1');
    deliver('task.output', { items: [piece(2, 0, ['a replica'])] }, 'ki-2');
    deliver('task.output', { items: [piece(1, 2, ['stale']), piece(2, 2, ['c'])] }, 'ki-1');
    deliver('task.output', { items: [piece(2, 3, ['forged'])] }, 'ki-9');
    assert.deepEqual(relayed.map((r) => [r.taskId, r.seq, r.chunks]), [[t.spec.id, 0, ['a', 'b']], [t.spec.id, 2, ['c']]], 'a stale piece is dropped from its message, the current one kept');
  });

  it('hands a current result to the outcome handler (unstorable ones made a failure) and any other to the late votes', async () => {
    const { t, results, late, deliver } = reportsOn();
    const now = Date.now();
    deliver('task.result', { ki: 'ki-1', items: [
      { taskId: t.spec.id, attempt: 2, startedAtMs: now, finishedAtMs: now, ok: true, result: 'a\u0000b' },
      { taskId: t.spec.id, attempt: 1, startedAtMs: now, finishedAtMs: now, ok: true, result: 1 },
    ] });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(results.map((r) => [r.ki, r.ok, r.error?.code]), [['ki-1', false, 'RESULT_UNSTORABLE']]);
    assert.deepEqual(late.map((l) => [l.taskId, l.ki]), [[t.spec.id, 'ki-1']]);
  });
});
