import { strict as assert } from 'node:assert';
import { attemptsOf, type AttemptLogEntry } from '../../../src/dashboard/static/task-story.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe('dashboard: a task\'s attempts from its attempt log', () => {
  it('ends an attempt at its retry, keeps the Ki it lost and its error, and starts the next at its dispatch', () => {
    const log: AttemptLogEntry[] = [
      { status: 'dispatched', attempt: 1, at: at(0), an: 'an1', ki: 'ki2', gpus: { ki2: [0] } },
      { status: 'running', attempt: 1, at: at(1), an: 'an1', ki: 'ki2' },
      { status: 'scheduled', attempt: 1, at: at(5), an: 'an1', ki: 'ki2', error: { code: 'KI_LOST', message: 'gone' } },
      { status: 'queued', attempt: 1, at: at(6) },
      { status: 'running', attempt: 2, at: at(7), an: 'an1', ki: 'ki1' },
      { status: 'succeeded', attempt: 2, at: at(9), an: 'an1', ki: 'ki1' },
    ];
    assert.deepEqual(attemptsOf(log).map((a) => [a.attempt, a.ki, a.gpus, a.startedAt, a.endedAt, a.outcome, a.error?.code ?? null]), [
      [1, 'ki2', { ki2: [0] }, at(0), at(5), 'retrying', 'KI_LOST'],
      [2, 'ki1', null, at(7), at(9), 'succeeded', null],
    ]);
  });

  it('gives a caller\'s retry of a failed task no attempt of its own, and leaves a running attempt open', () => {
    const log: AttemptLogEntry[] = [
      { status: 'failed', attempt: 1, at: at(1), an: 'an1', ki: 'ki1', error: { code: 'TASK_FAILED', message: 'no' } },
      { status: 'queued', attempt: 1, at: at(2) },
      { status: 'dispatched', attempt: 2, at: at(3), an: 'an1', ki: 'ki1' },
    ];
    const attempts = attemptsOf(log);
    assert.deepEqual(attempts.map((a) => [a.attempt, a.outcome, a.endedAt]), [[1, 'failed', at(1)], [2, null, null]]);
  });

  it('shows a task requeued from a lost An as an attempt that was requeued', () => {
    const log: AttemptLogEntry[] = [
      { status: 'dispatched', attempt: 1, at: at(0), an: 'an1', ki: 'ki1' },
      { status: 'queued', attempt: 1, at: at(4), an: 'an1', ki: 'ki1' },
    ];
    assert.deepEqual(attemptsOf(log).map((a) => a.outcome), ['requeued']);
  });
});
