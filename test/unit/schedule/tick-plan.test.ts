import { strict as assert } from 'node:assert';
import { planTick, type TickPlanInput } from '../../../src/schedule';

const at = (iso: string) => Date.parse(iso);
const everySecond = { cron: '* * * * * *', timezone: 'UTC' };
const everyMinute = { cron: '* * * * *', timezone: 'UTC' };
const hourly = { cron: '0 * * * *', timezone: 'UTC' };
const GRACE = 30_000;

/** Passes of the ticker from `nextRunAtMs` at `nowMs`: the ticks it runs, until nothing is due. */
function passes(i: TickPlanInput): { ran: number[]; nextRunAtMs: number } {
  const ran: number[] = [];
  let next = i.nextRunAtMs;
  for (let n = 0; n < 1000; n++) {
    const p = planTick({ ...i, nextRunAtMs: next });
    if (p.tickAtMs !== null) ran.push(p.tickAtMs);
    if (p.nextRunAtMs === next && p.tickAtMs === null) break;
    next = p.nextRunAtMs;
    if (next > i.nowMs) break;
  }
  return { ran, nextRunAtMs: next };
}

describe('planTick', () => {
  it('runs the due tick on time and moves to the next one', () => {
    const p = planTick({ spec: everySecond, catchup: 'none', nextRunAtMs: at('2026-01-01T00:00:05Z'), nowMs: at('2026-01-01T00:00:05.200Z'), failoverGraceMs: GRACE });
    assert.deepEqual(p, { tickAtMs: at('2026-01-01T00:00:05Z'), nextRunAtMs: at('2026-01-01T00:00:06Z'), droppedTicks: false });
  });

  it('runs nothing before the stored next tick', () => {
    const p = planTick({ spec: everyMinute, catchup: 'latest', nextRunAtMs: at('2026-01-01T00:05:00Z'), nowMs: at('2026-01-01T00:04:30Z'), failoverGraceMs: GRACE });
    assert.equal(p.tickAtMs, null);
    assert.equal(p.droppedTicks, false);
  });

  it('runs every tick a failover held back, one per pass and in order, whatever the catch-up policy', () => {
    for (const catchup of ['none', 'latest'] as const) {
      const { ran, nextRunAtMs } = passes({ spec: everySecond, catchup, nextRunAtMs: at('2026-01-01T00:00:01Z'), nowMs: at('2026-01-01T00:00:04.300Z'), failoverGraceMs: GRACE });
      assert.deepEqual(ran, [1, 2, 3, 4].map((s) => at(`2026-01-01T00:00:0${s}Z`)), catchup);
      assert.equal(nextRunAtMs, at('2026-01-01T00:00:05Z'));
    }
  });

  it('runs a rare schedule\'s tick held back by a failover', () => {
    const p = planTick({ spec: hourly, catchup: 'none', nextRunAtMs: at('2026-01-02T03:00:00Z'), nowMs: at('2026-01-02T03:00:04Z'), failoverGraceMs: GRACE });
    assert.equal(p.tickAtMs, at('2026-01-02T03:00:00Z'));
  });

  it('after an outage longer than the grace, drops the older ticks and runs those within the grace', () => {
    const { ran } = passes({ spec: everySecond, catchup: 'none', nextRunAtMs: at('2026-01-01T00:00:01Z'), nowMs: at('2026-01-01T00:10:00.500Z'), failoverGraceMs: 3000 });
    assert.deepEqual(ran, [at('2026-01-01T00:09:58Z'), at('2026-01-01T00:09:59Z'), at('2026-01-01T00:10:00Z')]);
    const first = planTick({ spec: everySecond, catchup: 'none', nextRunAtMs: at('2026-01-01T00:00:01Z'), nowMs: at('2026-01-01T00:10:00.500Z'), failoverGraceMs: 3000 });
    assert.deepEqual(first, { tickAtMs: at('2026-01-01T00:09:58Z'), nextRunAtMs: at('2026-01-01T00:09:59Z'), droppedTicks: true });
  });

  it('with catchup none, drops every tick older than the grace and goes on from now', () => {
    const p = planTick({ spec: everyMinute, catchup: 'none', nextRunAtMs: at('2026-01-01T00:01:00Z'), nowMs: at('2026-01-01T00:10:30Z'), failoverGraceMs: 10_000 });
    assert.deepEqual(p, { tickAtMs: null, nextRunAtMs: at('2026-01-01T00:11:00Z'), droppedTicks: true });
  });

  it('with catchup latest, runs the latest missed tick once however late', () => {
    const p = planTick({ spec: everyMinute, catchup: 'latest', nextRunAtMs: at('2026-01-01T00:01:00Z'), nowMs: at('2026-01-01T05:10:30Z'), failoverGraceMs: 1000 });
    assert.deepEqual(p, { tickAtMs: at('2026-01-01T05:10:00Z'), nextRunAtMs: at('2026-01-01T05:11:00Z'), droppedTicks: true });
  });

  it('with catchup latest, runs a single missed tick older than the grace without counting a drop', () => {
    const p = planTick({ spec: hourly, catchup: 'latest', nextRunAtMs: at('2026-01-02T03:00:00Z'), nowMs: at('2026-01-02T03:20:00Z'), failoverGraceMs: GRACE });
    assert.deepEqual(p, { tickAtMs: at('2026-01-02T03:00:00Z'), nextRunAtMs: at('2026-01-02T04:00:00Z'), droppedTicks: false });
  });
});
