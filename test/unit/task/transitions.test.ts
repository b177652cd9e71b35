import { strict as assert } from 'node:assert';
import { TASK_STATUSES, TRANSITION_NAMES, TRANSITIONS, transitionRule, withDispatch, type TaskStatus, type TransitionName } from '../../../src/task';

/** The table as the An, the leader and REST callers rely on it, spelled out once more by hand. */
const EXPECTED: Record<TransitionName, { from: TaskStatus[]; to: TaskStatus; countsAttempt: boolean }> = {
  dispatch: { from: ['queued'], to: 'dispatched', countsAttempt: true },
  dispatchStarted: { from: ['queued'], to: 'running', countsAttempt: true },
  takeOver: { from: ['dispatched', 'running'], to: 'dispatched', countsAttempt: true },
  start: { from: ['dispatched'], to: 'running', countsAttempt: false },
  succeed: { from: ['dispatched', 'running'], to: 'succeeded', countsAttempt: false },
  fail: { from: ['dispatched', 'running'], to: 'failed', countsAttempt: false },
  retry: { from: ['dispatched', 'running'], to: 'scheduled', countsAttempt: false },
  dispatchAndSucceed: { from: ['queued'], to: 'succeeded', countsAttempt: true },
  dispatchAndFail: { from: ['queued'], to: 'failed', countsAttempt: true },
  dispatchAndRetry: { from: ['queued'], to: 'scheduled', countsAttempt: true },
  failUnplaceable: { from: ['queued'], to: 'failed', countsAttempt: false },
  handBack: { from: ['queued', 'dispatched', 'running'], to: 'queued', countsAttempt: false },
  requeueLost: { from: ['queued', 'dispatched', 'running'], to: 'queued', countsAttempt: false },
  expireLease: { from: ['dispatched', 'running'], to: 'failed', countsAttempt: false },
  release: { from: ['scheduled'], to: 'queued', countsAttempt: false },
  cancel: { from: ['scheduled', 'queued', 'dispatched', 'running'], to: 'cancelled', countsAttempt: false },
  retryFailed: { from: ['failed'], to: 'queued', countsAttempt: false },
};

describe('task transitions: one table of every state change', () => {
  it('has exactly the expected transitions', () => {
    assert.deepEqual([...TRANSITION_NAMES].sort(), Object.keys(EXPECTED).sort());
  });

  for (const name of Object.keys(EXPECTED) as TransitionName[]) {
    it(`${name} leaves ${EXPECTED[name].from.join('/')} for ${EXPECTED[name].to}${EXPECTED[name].countsAttempt ? ' and counts an attempt' : ''}`, () => {
      const rule = transitionRule(name);
      assert.deepEqual([...rule.from].sort(), [...EXPECTED[name].from].sort());
      assert.equal(rule.to, EXPECTED[name].to);
      assert.equal(rule.countsAttempt === true, EXPECTED[name].countsAttempt);
    });
  }

  it('never leaves a terminal state, but for a caller\'s retry of a failed task', () => {
    for (const name of TRANSITION_NAMES) {
      for (const s of TRANSITIONS[name].from) assert.ok(!['succeeded', 'failed', 'cancelled'].includes(s) || (name === 'retryFailed' && s === 'failed'), `${name} leaves ${s}`);
    }
  });

  it('only counts an attempt when leaving the queue or taking over a held task', () => {
    for (const name of TRANSITION_NAMES) {
      const rule = transitionRule(name);
      if (rule.countsAttempt) assert.ok(rule.from.every((s) => s === 'queued') || name === 'takeOver', name);
    }
  });

  it('reaches every state', () => {
    const reached = new Set(TRANSITION_NAMES.map((n) => TRANSITIONS[n].to));
    for (const s of TASK_STATUSES) assert.ok(reached.has(s), s);
  });

  it('leaves scheduled only by the leader\'s release (to the queue) or a cancel: no An dispatches a task before its runAt', () => {
    const leaving = TRANSITION_NAMES.filter((n) => (TRANSITIONS[n].from as readonly TaskStatus[]).includes('scheduled'));
    assert.deepEqual(leaving.sort(), ['cancel', 'release']);
    assert.equal(TRANSITIONS.release.to, 'queued');
  });

  it('sends a retryable failure to scheduled, never back to queued under the An: the backoff waits in the store', () => {
    assert.equal(TRANSITIONS.retry.to, 'scheduled');
    assert.equal(TRANSITIONS.dispatchAndRetry.to, 'scheduled');
  });

  it('records a deferred dispatch together with its outcome, from queued, counting the attempt', () => {
    for (const [outcome, combined] of [['succeed', 'dispatchAndSucceed'], ['fail', 'dispatchAndFail'], ['retry', 'dispatchAndRetry'], ['start', 'dispatchStarted']] as const) {
      assert.equal(withDispatch(outcome), combined);
      const rule = transitionRule(withDispatch(outcome));
      assert.deepEqual(rule.from, ['queued']);
      assert.equal(rule.to, TRANSITIONS[outcome].to, `${combined} ends where ${outcome} does`);
      assert.equal(rule.countsAttempt, true);
    }
  });
});
