import { strict as assert } from 'node:assert';
import { planTick } from '../../../src/schedule';

const at = (iso: string) => Date.parse(iso);
const everySecond = { cron: '* * * * * *', timezone: 'UTC' };
const everyMinute = { cron: '* * * * *', timezone: 'UTC' };
const GRACE = 60_000;

describe('planTick', () => {
  it('runs the due tick on time and moves to the next one', () => {
    const p = planTick({ spec: everySecond, catchup: 'none', nextRunAtMs: at('2026-01-01T00:00:05Z'), nowMs: at('2026-01-01T00:00:05.200Z'), maxGraceMs: GRACE });
    assert.deepEqual(p, { tickAtMs: at('2026-01-01T00:00:05Z'), nextRunAtMs: at('2026-01-01T00:00:06Z'), droppedTicks: false });
  });

  it('runs nothing before the stored next tick', () => {
    const p = planTick({ spec: everyMinute, catchup: 'latest', nextRunAtMs: at('2026-01-01T00:05:00Z'), nowMs: at('2026-01-01T00:04:30Z'), maxGraceMs: GRACE });
    assert.equal(p.tickAtMs, null);
    assert.equal(p.droppedTicks, false);
  });

  it('with catchup none, drops ticks missed by more than one interval and goes on from now', () => {
    const p = planTick({ spec: everyMinute, catchup: 'none', nextRunAtMs: at('2026-01-01T00:01:00Z'), nowMs: at('2026-01-01T00:10:30Z'), maxGraceMs: 10_000 });
    assert.deepEqual(p, { tickAtMs: null, nextRunAtMs: at('2026-01-01T00:11:00Z'), droppedTicks: true });
  });

  it('with catchup none, still runs the latest tick while it is within one interval', () => {
    const p = planTick({ spec: everySecond, catchup: 'none', nextRunAtMs: at('2026-01-01T00:00:01Z'), nowMs: at('2026-01-01T00:00:04.300Z'), maxGraceMs: GRACE });
    assert.deepEqual(p, { tickAtMs: at('2026-01-01T00:00:04Z'), nextRunAtMs: at('2026-01-01T00:00:05Z'), droppedTicks: true });
  });

  it('with catchup latest, runs the latest missed tick once however late', () => {
    const p = planTick({ spec: everyMinute, catchup: 'latest', nextRunAtMs: at('2026-01-01T00:01:00Z'), nowMs: at('2026-01-01T05:10:30Z'), maxGraceMs: 1000 });
    assert.deepEqual(p, { tickAtMs: at('2026-01-01T05:10:00Z'), nextRunAtMs: at('2026-01-01T05:11:00Z'), droppedTicks: true });
  });

  it('keeps the grace of catchup none under its cap for rare schedules', () => {
    const daily = { cron: '0 0 * * *', timezone: 'UTC' };
    const late = planTick({ spec: daily, catchup: 'none', nextRunAtMs: at('2026-01-02T00:00:00Z'), nowMs: at('2026-01-02T00:02:00Z'), maxGraceMs: 60_000 });
    assert.equal(late.tickAtMs, null);
    const onTime = planTick({ spec: daily, catchup: 'none', nextRunAtMs: at('2026-01-02T00:00:00Z'), nowMs: at('2026-01-02T00:00:30Z'), maxGraceMs: 60_000 });
    assert.equal(onTime.tickAtMs, at('2026-01-02T00:00:00Z'));
  });
});
