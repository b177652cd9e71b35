import { strict as assert } from 'node:assert';
import type { ApiTask } from '../../../src/cli/client/api-types';
import { durationOption, parseClientArgs, UsageError } from '../../../src/cli/client/args';
import { formatDue, formatTaskDetail, formatTaskTable } from '../../../src/cli/client/format';

const NOW_MS = Date.parse('2030-01-31T08:00:00Z');

function task(over: Partial<ApiTask> = {}): ApiTask {
  return {
    id: '6f1c2d3e-0000-4000-8000-000000000001', type: 'echo', payload: null, status: 'queued', priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] },
    attempts: 0, maxAttempts: 3, timeoutMs: 1000, result: null, error: null, progress: null, owner: 'alice', tenant: 'alice', an: null, ki: null, runAt: null, scheduleId: null, scheduleTickAt: null, workflowId: null,
    createdAt: '2030-01-31T07:59:00Z', updatedAt: '2030-01-31T07:59:00Z', startedAt: null, finishedAt: null, ...over,
  };
}

describe('client: delayed submissions and scheduled tasks', () => {
  it('reads --delay as plain milliseconds or as amounts with units', () => {
    const delay = (v: string) => durationOption(parseClientArgs(['--delay', v]), 'delay');
    assert.equal(delay('1500'), 1500);
    assert.equal(delay('250ms'), 250);
    assert.equal(delay('90s'), 90_000);
    assert.equal(delay('5m'), 300_000);
    assert.equal(delay('1h30m'), 5_400_000);
    assert.equal(delay('2d'), 172_800_000);
    assert.equal(durationOption(parseClientArgs([]), 'delay'), undefined);
  });

  it('refuses a --delay that is no duration, naming the option', () => {
    for (const v of ['-5', '1.5s', '5 m', 'soon', '5mx', 's', '99999999999999999999']) {
      assert.throws(() => durationOption(parseClientArgs(['--delay', v]), 'delay'), (err: Error) => err instanceof UsageError && /--delay must be/.test(err.message), v);
    }
  });

  it('shows when a scheduled task is due in the listing, and nothing for the others', () => {
    const table = formatTaskTable([task({ status: 'scheduled', runAt: '2030-01-31T08:05:00Z' }), task({ status: 'queued', runAt: '2030-01-31T07:00:00Z' })], NOW_MS);
    const [header, scheduled, queued] = table.split('\n');
    assert.match(header!, /\bRUN AT$/);
    assert.match(scheduled!, /scheduled .* 2030-01-31 08:05:00Z \(in 5m00s\)$/);
    assert.match(queued!, /queued .* -$/);
  });

  it('says a scheduled task whose time has come is due', () => {
    assert.equal(formatDue('2030-01-31T07:59:59Z', NOW_MS), 'due');
    assert.equal(formatDue('2030-01-31T08:00:01.5Z', NOW_MS), 'in 1.5s');
    assert.equal(formatDue(null, NOW_MS), '-');
  });

  it('shows runAt in the detail of a task', () => {
    assert.match(formatTaskDetail(task({ status: 'scheduled', runAt: '2030-01-31T08:05:00Z' })), /^run at\s+2030-01-31 08:05:00Z$/m);
    assert.doesNotMatch(formatTaskDetail(task()), /run at/);
  });
});
