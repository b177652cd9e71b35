import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { createMetrics } from '../../../src/observability';
import { TableStatsReporter } from '../../../src/principal/table-stats-reporter';
import type { TableStats } from '../../../src/store';

describe('TableStatsReporter', () => {
  const setup = () => {
    const metrics = createMetrics(new Registry(), 'principal');
    let answer: () => Promise<TableStats[]> = () => Promise.resolve([{ table: 'tasks', rows: 10, bytes: 8192 }, { table: 'schedules', rows: null, bytes: 4096 }]);
    const reporter = new TableStatsReporter({ stats: { tableStats: () => answer() }, metrics });
    const series = async () => ({
      rows: Object.fromEntries((await metrics.storeTableRows.get()).values.map((v) => [v.labels['table'], v.value])),
      bytes: Object.fromEntries((await metrics.storeTableBytes.get()).values.map((v) => [v.labels['table'], v.value])),
    });
    return { reporter, series, fail: () => { answer = () => Promise.reject(new Error('catalog away')); } };
  };

  it('sets rows and bytes per table on the leader, leaving out what the database cannot tell', async () => {
    const { reporter, series } = setup();
    await reporter.report(true);
    assert.deepEqual(await series(), { rows: { tasks: 10 }, bytes: { tasks: 8192, schedules: 4096 } });
  });

  it('keeps the last sizes when a read fails, and clears them once this principal no longer leads', async () => {
    const { reporter, series, fail } = setup();
    await reporter.report(true);
    fail();
    await assert.rejects(reporter.report(true), /catalog away/);
    assert.equal((await series()).bytes['tasks'], 8192);
    await reporter.report(false);
    assert.deepEqual(await series(), { rows: {}, bytes: {} });
  });
});
