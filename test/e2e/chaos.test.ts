import { strict as assert } from 'node:assert';
import { formatReport, runChaos } from '../../scripts/chaos/run-chaos';

describe('chaos: a seeded short soak with kills, broker cuts and DB outages', function () {
  this.timeout(240_000);

  it('keeps every promise: each 201 ends terminal, nothing completes twice, refusals are clear, no process is left', async () => {
    const report = await runChaos({ durationMs: 40_000, seed: 20261123, principals: 3, ans: 2, kis: 6, ratePerSec: 15, faultEveryMs: 4000, settleMs: 90_000 });
    console.log(formatReport(report).split('\n').map((l) => `      ${l}`).join('\n'));
    assert.ok(report.accepted > 100, 'the load got through');
    assert.ok(Object.values(report.faults).reduce((a, b) => a + b, 0) >= 5, 'faults were injected');
    assert.deepEqual(report.lost, [], 'no accepted task was lost');
    assert.deepEqual(report.doubleCompletions, [], 'no task completed twice');
    assert.deepEqual(report.violations, [], 'every refusal was a 4xx or 503');
    assert.deepEqual(report.leftoverProcesses, [], 'no process left behind');
    for (const status of Object.keys(report.rejected)) assert.ok(status === '503' || status.startsWith('4'), `refused with ${status}`);
  });
});
