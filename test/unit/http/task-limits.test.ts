import { strict as assert } from 'node:assert';
import { ConfigError } from '../../../src/errors';
import { HttpProblem } from '../../../src/http/problem';
import { checkSubmission, DEFAULT_TASK_LIMITS, limitsOf, parseTaskLimits } from '../../../src/http/task-limits';

const over = (fn: () => void, field: string, ceiling: number) => assert.throws(fn, (err: unknown) => {
  assert.ok(err instanceof HttpProblem && err.status === 400);
  assert.equal(err.extra['field'], field);
  assert.equal(err.extra['ceiling'], ceiling);
  return true;
});

describe('task limits (TASK_LIMITS)', () => {
  it('gives submitters ceilings and admins the API\'s bounds by default', () => {
    assert.equal(parseTaskLimits('').submitter.maxPriority, 5);
    assert.equal(parseTaskLimits('').admin.maxPriority, 9);
  });

  it('merges the configured fields over each role\'s defaults', () => {
    const l = parseTaskLimits('{"submitter":{"maxPriority":3},"operator":{"maxReplicas":4}}');
    assert.deepEqual(l.submitter, { ...DEFAULT_TASK_LIMITS.submitter, maxPriority: 3 });
    assert.equal(l.operator.maxReplicas, 4);
    assert.equal(l.operator.maxPriority, 9);
  });

  it('refuses bad JSON, unknown roles or fields and values beyond the API\'s bounds at start-up', () => {
    for (const bad of ['{', '{"root":{}}', '{"submitter":{"maxPriorty":3}}', '{"submitter":{"maxPriority":12}}', '[]']) {
      assert.throws(() => parseTaskLimits(bad), (err: unknown) => err instanceof ConfigError && err.message.includes('TASK_LIMITS'), bad);
    }
  });

  it('gives a caller with several roles the most each of them allows', () => {
    const l = limitsOf(parseTaskLimits('{"viewer":{"maxAttempts":9}}'), ['submitter', 'viewer']);
    assert.equal(l.maxAttempts, 9);
    assert.equal(l.maxPriority, 5);
  });

  it('names the first field over its ceiling, counting payload bytes as JSON', () => {
    const l = DEFAULT_TASK_LIMITS.submitter;
    over(() => checkSubmission({ priority: 6 }, l), 'priority', 5);
    over(() => checkSubmission({ task_data: 'é'.repeat(140 * 1024) }, l), 'task_data', 256 * 1024);
    over(() => checkSubmission({ redundancy: { replicas: 4, quorum: 1 } }, l, 'tasks.3'), 'tasks.3.redundancy.replicas', 3);
    assert.doesNotThrow(() => checkSubmission({ priority: 5, maxAttempts: 5, timeoutMs: 3_600_000, payload: 'x' }, l));
  });
});
