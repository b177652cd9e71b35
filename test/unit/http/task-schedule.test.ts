import { strict as assert } from 'node:assert';
import { HttpProblem } from '../../../src/http/problem';
import { scheduleOf } from '../../../src/http/task-schedule';
import { listQuerySchema, parseOr400, submitTaskSchema } from '../../../src/http/task-schemas';

/** Asserts a 400 problem whose detail starts with the field and whose `field` extra names it. */
function assert400(fn: () => unknown, field: string, detail?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HttpProblem, `expected HttpProblem, got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.ok(err.detail.startsWith(`${field}:`), `detail "${err.detail}" does not name ${field}`);
    assert.equal(err.extra['field'], field);
    if (detail) assert.match(err.detail, detail);
    return true;
  });
}

const DAY_MS = 24 * 3600 * 1000;
const NOW_MS = Date.parse('2030-01-31T08:00:00Z');
const bounds = { horizonMs: 366 * DAY_MS, nowMs: NOW_MS };

describe('delayed submissions: runAt and delayMs', () => {
  describe('the submit schema', () => {
    it('accepts an RFC 3339 runAt with an offset, Z or numeric, with or without fractions', () => {
      for (const runAt of ['2030-01-31T09:00:00Z', '2030-01-31T10:00:00+01:00', '2030-01-31T09:00:00.250-05:30']) {
        assert.equal(parseOr400(submitTaskSchema, { runAt }).runAt, runAt);
      }
    });

    it('refuses a runAt without an offset, a date alone, an impossible date or a number, naming runAt', () => {
      for (const runAt of ['2030-01-31T09:00:00', '2030-01-31', '2030-02-30T09:00:00Z', '2030-01-31 09:00:00Z', 'tomorrow', 1_900_000_000_000]) {
        assert400(() => parseOr400(submitTaskSchema, { runAt }), 'runAt');
      }
    });

    it('accepts a delayMs of 0 or more, whole milliseconds', () => {
      for (const delayMs of [0, 1, 60_000]) assert.equal(parseOr400(submitTaskSchema, { delayMs }).delayMs, delayMs);
    });

    it('refuses a negative, fractional, textual or unbounded delayMs, naming delayMs', () => {
      for (const delayMs of [-1, 1.5, '100', 1e300, Number.MAX_SAFE_INTEGER]) assert400(() => parseOr400(submitTaskSchema, { delayMs }), 'delayMs');
    });

    it('refuses runAt and delayMs together, naming both fields', () => {
      assert400(() => parseOr400(submitTaskSchema, { runAt: '2030-01-31T09:00:00Z', delayMs: 10 }), 'runAt', /runAt or delayMs, not both/);
    });

    it('names the batch item and the field', () => {
      assert400(() => parseOr400(submitTaskSchema, { delayMs: -5 }, 'tasks.3'), 'tasks.3.delayMs');
    });

    it('lists scheduled tasks: GET /tasks?status=scheduled is a known status', () => {
      assert.equal(parseOr400(listQuerySchema, { status: 'scheduled' }).status, 'scheduled');
    });
  });

  describe('scheduleOf: when a submission is due', () => {
    it('is undefined for a submission that asked for no time: it is queued at once', () => {
      assert.equal(scheduleOf({}, bounds), undefined);
    });

    it('is now + delayMs', () => {
      assert.equal(scheduleOf({ delayMs: 1500 }, bounds)?.getTime(), NOW_MS + 1500);
      assert.equal(scheduleOf({ delayMs: 0 }, bounds)?.getTime(), NOW_MS);
    });

    it('is the instant runAt names, whatever its offset', () => {
      assert.equal(scheduleOf({ runAt: '2030-01-31T10:00:00+02:00' }, bounds)?.getTime(), NOW_MS);
      assert.equal(scheduleOf({ runAt: '2030-01-31T09:00:00.5Z' }, bounds)?.getTime(), NOW_MS + 3_600_500);
    });

    it('accepts a runAt in the past: the task is due at once', () => {
      assert.equal(scheduleOf({ runAt: '2001-01-01T00:00:00Z' }, bounds)?.toISOString(), '2001-01-01T00:00:00.000Z');
    });

    it('accepts a time at the horizon and refuses one past it, naming the field', () => {
      assert.equal(scheduleOf({ delayMs: bounds.horizonMs }, bounds)?.getTime(), NOW_MS + bounds.horizonMs);
      assert400(() => scheduleOf({ delayMs: bounds.horizonMs + 1 }, bounds), 'delayMs', /horizon/);
      assert400(() => scheduleOf({ runAt: '2031-02-01T08:00:00.001Z' }, bounds), 'runAt', /horizon/);
    });

    it('names a batch item\'s field by its place', () => {
      assert400(() => scheduleOf({ delayMs: 400 * DAY_MS }, bounds, 'tasks.7'), 'tasks.7.delayMs');
    });

    it('follows the configured horizon', () => {
      assert400(() => scheduleOf({ delayMs: 61_000 }, { horizonMs: 60_000, nowMs: NOW_MS }), 'delayMs');
      assert.equal(scheduleOf({ delayMs: 60_000 }, { horizonMs: 60_000, nowMs: NOW_MS })?.getTime(), NOW_MS + 60_000);
    });
  });
});
