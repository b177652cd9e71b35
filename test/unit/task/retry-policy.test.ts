import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { attemptRetryPolicy, hasAttemptLeft, nextDelayMs, RESULT_REPORT_RETRY, shouldRetry, TX_RETRY, type RetryPolicy } from '../../../src/task';

const policy: RetryPolicy = { maxAttempts: 5, initialMs: 100, factor: 2, maxMs: 1000, jitter: 0.3 };
const top = () => 1 - Number.EPSILON;
const bottom = () => 0;

describe('retry policy: one backoff formula for every retry', () => {
  it('grows by the factor from the initial delay and stops at the cap', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => nextDelayMs(policy, n, top)), [100, 200, 400, 800, 1000, 1000]);
  });

  it('keeps the delay between (1 - jitter) and all of it', () => {
    assert.equal(nextDelayMs(policy, 3, bottom), 280);
    assert.equal(nextDelayMs(policy, 3, top), 400);
    for (let i = 0; i < 200; i++) {
      const d = nextDelayMs(policy, 2);
      assert.ok(d >= 140 && d <= 200, String(d));
    }
  });

  it('waits a constant delay with factor 1 and none with a zero initial delay', () => {
    assert.equal(nextDelayMs({ ...policy, factor: 1, jitter: 0 }, 7), 100);
    assert.equal(nextDelayMs({ ...policy, initialMs: 0 }, 3), 0);
  });

  it('treats an attempt below 1 as the first and clamps the jitter to [0, 1]', () => {
    assert.equal(nextDelayMs({ ...policy, jitter: 0 }, 0), 100);
    assert.equal(nextDelayMs({ ...policy, jitter: 5 }, 1, bottom), 0);
    assert.equal(nextDelayMs({ ...policy, jitter: -1 }, 1, bottom), 100);
  });

  it('waits, in the store\'s transaction retry, between half and all of 20 ms doubling to 2 s', () => {
    for (let n = 1; n <= 20; n++) {
      const ceiling = Math.min(2000, 20 * 2 ** (n - 1));
      for (let i = 0; i < 20; i++) {
        const d = nextDelayMs({ ...TX_RETRY, maxAttempts: 5 }, n);
        assert.ok(d >= Math.floor(ceiling / 2) && d <= ceiling, `${n}: ${d}`);
      }
    }
  });

  it('waits, in the An\'s attempt retry, between 70 % and all of an.retryBaseMs doubling to an.retryMaxMs', () => {
    const an = attemptRetryPolicy({ retryBaseMs: 200, retryMaxMs: 30_000 }, 3);
    for (let n = 1; n <= 10; n++) {
      const d = nextDelayMs(an, n);
      const ceiling = Math.min(30_000, 200 * 2 ** (n - 1));
      assert.ok(d >= Math.round(ceiling * 0.7) && d <= ceiling, `${n}: ${d}`);
    }
  });

  it('never exceeds the cap nor goes negative, and keeps within the jitter, for any base, cap and jitter (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 60_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, base, max, jitter) => {
        const d = nextDelayMs({ maxAttempts: Number.POSITIVE_INFINITY, initialMs: base, factor: 2, maxMs: max, jitter }, attempt);
        const ceiling = Math.min(max, base * 2 ** (attempt - 1));
        assert.ok(Number.isInteger(d));
        assert.ok(d >= 0 && d <= Math.ceil(ceiling), `${d} > ${ceiling}`);
        assert.ok(d >= Math.floor(ceiling * (1 - jitter)), `${d} < ${ceiling * (1 - jitter)}`);
      }),
    );
  });

  it('builds the An attempt retry from an.retryBaseMs and an.retryMaxMs', () => {
    assert.deepEqual(attemptRetryPolicy({ retryBaseMs: 200, retryMaxMs: 30_000 }, 3), { maxAttempts: 3, initialMs: 200, factor: 2, maxMs: 30_000, jitter: 0.3 });
  });

  it('gives the Ki a few quick tries to report a result', () => {
    assert.equal(RESULT_REPORT_RETRY.maxAttempts, 5);
    const worst = [1, 2, 3, 4].reduce((sum, n) => sum + nextDelayMs(RESULT_REPORT_RETRY, n, top), 0);
    assert.ok(worst <= 5000, `the An's lease recovery takes over after ${worst} ms at most`);
  });

  it('retries only while an attempt is left', () => {
    assert.equal(hasAttemptLeft(1, 3), true);
    assert.equal(hasAttemptLeft(3, 3), false);
    assert.equal(shouldRetry({ code: 'KI_LOST', retryable: true }, 2, 3), true);
    assert.equal(shouldRetry({ code: 'KI_LOST', retryable: true }, 3, 3), false);
  });

  it('decides retryability by the error code, and by the reporter only where the code leaves it to it', () => {
    assert.equal(shouldRetry({ code: 'TIMEOUT', retryable: true }, 1, 3), false, 'a timeout is never retried, whatever was reported');
    assert.equal(shouldRetry({ code: 'KI_BUSY', retryable: false }, 1, 3), true, 'a busy Ki is always worth another try');
    assert.equal(shouldRetry({ code: 'HTTP_STATUS', retryable: true }, 1, 3), true);
    assert.equal(shouldRetry({ code: 'HTTP_STATUS', retryable: false }, 1, 3), false);
    assert.equal(shouldRetry({ code: 'SOME_PLUGIN_CODE', retryable: true }, 1, 3), true, 'an unknown code is an executor error: its reporter decides');
  });
});
