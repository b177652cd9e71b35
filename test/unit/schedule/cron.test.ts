import { strict as assert } from 'node:assert';
import { cronProblem, isKnownTimezone, latestTickAtOrBefore, nextTickAfter } from '../../../src/schedule';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('cron expressions', () => {
  it('accepts 5 fields (minutes) and 6 fields (seconds first)', () => {
    assert.equal(cronProblem('*/5 * * * *'), undefined);
    assert.equal(cronProblem('*/10 * * * * *'), undefined);
    assert.equal(cronProblem('0 3 * * 1-5'), undefined);
  });

  it('refuses other field counts, aliases and values out of range, saying why', () => {
    assert.match(cronProblem('* * * *') ?? '', /5 fields .* or 6 .*got 4/);
    assert.match(cronProblem('* * * * * * *') ?? '', /got 7/);
    assert.match(cronProblem('@daily') ?? '', /got 1/);
    assert.match(cronProblem('61 * * * *') ?? '', /61/);
    assert.match(cronProblem('* 25 * * *') ?? '', /25/);
    assert.ok(cronProblem('*/0 * * * *'));
    assert.ok(cronProblem('a b c d e'));
  });

  it('knows IANA time zones and refuses made-up ones', () => {
    assert.ok(isKnownTimezone('UTC'));
    assert.ok(isKnownTimezone('Europe/Berlin'));
    assert.ok(!isKnownTimezone('Mars/Olympus_Mons'));
    assert.ok(!isKnownTimezone(''));
  });

  it('fires an every-second schedule on each second, strictly after the given time', () => {
    const spec = { cron: '* * * * * *', timezone: 'UTC' };
    assert.equal(iso(nextTickAfter(spec, at('2026-01-01T00:00:00.000Z'))), '2026-01-01T00:00:01.000Z');
    assert.equal(iso(nextTickAfter(spec, at('2026-01-01T00:00:00.400Z'))), '2026-01-01T00:00:01.000Z');
    assert.equal(iso(latestTickAtOrBefore(spec, at('2026-01-01T00:00:01.000Z'))), '2026-01-01T00:00:01.000Z');
    assert.equal(iso(latestTickAtOrBefore(spec, at('2026-01-01T00:00:01.999Z'))), '2026-01-01T00:00:01.000Z');
  });

  it('reads the fields as wall-clock time of the zone across daylight-saving changes', () => {
    const spec = { cron: '0 9 * * *', timezone: 'Europe/Berlin' };
    // 09:00 in Berlin is 08:00Z in winter (CET) and 07:00Z from 29 March 2026 (CEST).
    assert.equal(iso(nextTickAfter(spec, at('2026-03-28T00:00:00Z'))), '2026-03-28T08:00:00.000Z');
    assert.equal(iso(nextTickAfter(spec, at('2026-03-28T09:00:00Z'))), '2026-03-29T07:00:00.000Z');
    // And back on 25 October 2026.
    assert.equal(iso(nextTickAfter(spec, at('2026-10-24T08:00:00Z'))), '2026-10-25T08:00:00.000Z');
  });

  it('runs a tick in the skipped hour of spring-forward once, and in the repeated hour of fall-back not twice', () => {
    const spring = { cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    const day = nextTickAfter(spring, at('2026-03-28T12:00:00Z'));
    const next = nextTickAfter(spring, day);
    assert.ok(day >= at('2026-03-29T00:00:00Z') && day < at('2026-03-30T00:00:00Z'), `one run on the day 02:30 does not exist: ${iso(day)}`);
    assert.equal(iso(next), '2026-03-30T00:30:00.000Z');
    const autumn = { cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    const first = nextTickAfter(autumn, at('2026-10-24T12:00:00Z'));
    const second = nextTickAfter(autumn, first);
    assert.ok(second - first >= 23 * 3600_000, `02:30 on 25 October runs once: ${iso(first)} then ${iso(second)}`);
  });
});
