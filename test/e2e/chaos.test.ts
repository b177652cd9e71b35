import { strict as assert } from 'node:assert';
import { FAULT_KINDS } from '../../scripts/chaos/faults';
import { formatReport, runChaos } from '../../scripts/chaos/run-chaos';

describe('chaos: a seeded short soak with every kind of fault: kills, broker cuts, DB outages and restarts, half-open links, partitions, stopped processes', function () {
  this.timeout(300_000);

  it('keeps every promise: each 201 ends terminal, nothing completes twice, refusals are clear, no process is left', async () => {
    // Faults come in shuffled rounds of every kind: 11 faults, 3.5 s apart, are one of each.
    const report = await runChaos({ durationMs: 42_000, seed: 20261123, principals: 3, ans: 2, kis: 6, ratePerSec: 15, faultEveryMs: 3500, settleMs: 90_000 });
    console.log(formatReport(report).split('\n').map((l) => `      ${l}`).join('\n'));
    assert.ok(report.accepted > 100, 'the load got through');
    for (const kind of FAULT_KINDS) assert.ok((report.faults[kind] ?? 0) > 0 || report.skipped[kind], `fault ${kind} injected, or skipped with a reason`);
    assert.deepEqual(report.lost, [], `no accepted task was lost: ${JSON.stringify(report.lostRows)}\n${report.lostTrail.join('\n')}`);
    assert.deepEqual(report.doubleCompletions, [], 'no task completed twice');
    assert.deepEqual(report.violations, [], 'every refusal was a 4xx or 503');
    assert.deepEqual(report.leftoverProcesses, [], 'no process left behind');
    for (const status of Object.keys(report.rejected)) assert.ok(status === '503' || status.startsWith('4'), `refused with ${status}`);
  });
});
