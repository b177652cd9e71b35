import { strict as assert } from 'node:assert';
import { ERROR_CODES, errorCodeLabel, executorErrorCode, isErrorCode, isRetryable, retryabilityOf, type ErrorCode } from '../../../src/task';

describe('error codes: a closed set with retryability per code', () => {
  it('holds every code the platform reports', () => {
    const reported: ErrorCode[] = [
      'TIMEOUT', 'CANCELLED', 'ABORTED', 'KI_LOST', 'KI_UNREACHABLE', 'KI_BUSY', 'AN_LOST', 'UNKNOWN_TYPE', 'BAD_PAYLOAD', 'TASK_FAILED', 'EXECUTOR_ERROR',
      'EXEC_SPAWN_FAILED', 'EXEC_EXIT', 'EXEC_NOT_ALLOWED', 'HTTP_TIMEOUT', 'HTTP_UNREACHABLE', 'HTTP_REDIRECT', 'HTTP_NOT_CONFIGURED', 'HTTP_STATUS',
      'RESULT_UNSTORABLE', 'NO_QUORUM', 'UNSATISFIABLE', 'LEASE_EXPIRED', 'ATTEMPTS_EXHAUSTED', 'UNKNOWN', 'MODEL_UNAVAILABLE', 'MODEL_LOAD_FAILED', 'WORKER_EXITED',
    ];
    assert.deepEqual(Object.keys(ERROR_CODES).sort(), [...reported].sort());
    for (const c of reported) assert.ok(isErrorCode(c), c);
  });

  it('keeps every code a valid wire code (at most 64 characters)', () => {
    for (const c of Object.keys(ERROR_CODES)) assert.ok(c.length <= 64 && /^[A-Z_]+$/.test(c), c);
  });

  it('gives each code the retryability its reporters use today', () => {
    const expected: Record<string, 'always' | 'never' | 'reported'> = {
      TIMEOUT: 'never', CANCELLED: 'never', ABORTED: 'reported', KI_LOST: 'always', KI_UNREACHABLE: 'always', KI_BUSY: 'always',
      UNKNOWN_TYPE: 'never', BAD_PAYLOAD: 'never', HTTP_TIMEOUT: 'always', HTTP_UNREACHABLE: 'always', HTTP_STATUS: 'reported',
      EXEC_EXIT: 'never', EXEC_SPAWN_FAILED: 'reported', TASK_FAILED: 'reported', NO_QUORUM: 'never', LEASE_EXPIRED: 'never', WORKER_EXITED: 'always',
    };
    for (const [code, r] of Object.entries(expected)) assert.equal(retryabilityOf(code), r, code);
    assert.equal(isRetryable('CANCELLED', true), false);
    assert.equal(isRetryable('KI_LOST', false), true);
    assert.equal(isRetryable('TASK_FAILED', true), true);
    assert.equal(isRetryable('TASK_FAILED', false), false);
  });

  it('labels a code outside the set as EXECUTOR_ERROR, so metrics get only closed values', () => {
    assert.equal(errorCodeLabel('KI_LOST'), 'KI_LOST');
    assert.equal(errorCodeLabel('MY_PLUGIN_CODE'), 'EXECUTOR_ERROR');
    assert.equal(errorCodeLabel(''), 'EXECUTOR_ERROR');
    assert.equal(errorCodeLabel('__proto__'), 'EXECUTOR_ERROR');
    assert.equal(errorCodeLabel('toString'), 'EXECUTOR_ERROR');
    assert.equal(retryabilityOf('hasOwnProperty'), 'reported');
  });

  it('carries an executor code outside the set as EXECUTOR_ERROR with the original leading the text', () => {
    assert.deepEqual(executorErrorCode('HTTP_STATUS', 'answered 503', 8192), { code: 'HTTP_STATUS', message: 'answered 503' });
    assert.deepEqual(executorErrorCode('GPU_OOM', 'out of memory', 8192), { code: 'EXECUTOR_ERROR', message: '[GPU_OOM] out of memory' });
    assert.equal(executorErrorCode('GPU_OOM', 'x'.repeat(100), 20).message.length, 20, 'the text stays within the limit');
  });
});
