import { strict as assert } from 'node:assert';
import { CapturedOutput, runClientCommand } from '../../../src/cli/client';
import { formatScheduleDetail, formatScheduleTable } from '../../../src/cli/client/schedule-format';
import type { ApiSchedule } from '../../../src/cli/client/schedule-types';

/** Nothing listens here: every case below must fail before a request is sent. */
const env = { ANKI_URL: 'http://127.0.0.1:9', ANKI_TOKEN: 't' };

async function run(args: string[]): Promise<{ code: number; out: CapturedOutput }> {
  const out = new CapturedOutput();
  return { code: await runClientCommand('schedule', args, env, out), out };
}

const sample: ApiSchedule = {
  id: '0b8a4c1e-8f4e-4a53-9d7e-111111111111', name: 'nightly', owner: 'alice', cron: '0 3 * * *', timezone: 'Europe/Berlin', task: { type: 'echo' },
  overlap: 'skip', catchup: 'none', paused: false, nextRunAt: '2026-01-02T02:00:00.000Z',
  lastRun: { tickAt: '2026-01-01T02:00:00.000Z', outcome: 'skipped-overlap', taskId: null, at: '2026-01-01T02:00:00.010Z' },
  runs: { created: 4, skippedOverlap: 1 }, createdAt: '2025-12-28T10:00:00.000Z', updatedAt: '2025-12-28T10:00:00.000Z',
};

describe('schedule client command', () => {
  it('refuses a missing or unknown action, and an action without its id, as bad usage', async () => {
    for (const args of [[], ['start'], ['get'], ['pause', 'a', 'b'], ['delete']]) {
      const { code, out } = await run(args);
      assert.equal(code, 2, `${args.join(' ')}: ${out.stderr}`);
    }
    assert.match((await run(['start'])).out.stderr, /create, list, get, pause, resume, delete/);
  });

  it('needs --name, --cron and --type to create, and refuses options it does not read', async () => {
    assert.match((await run(['create', '--name', 'n', '--type', 'echo'])).out.stderr, /--name, --cron and --type/);
    assert.equal((await run(['create', '--name', 'n', '--cron', '* * * * *', '--type', 'echo', '--status', 'queued'])).code, 2);
    assert.equal((await run(['create', '--name', 'n', '--cron', '* * * * *', '--type', 'echo', '--payload', '{bad'])).code, 2);
  });

  it('shows a schedule\'s state, next and last run', () => {
    const detail = formatScheduleDetail(sample);
    assert.match(detail, /cron\s+0 3 \* \* \* \(Europe\/Berlin\)/);
    assert.match(detail, /next run\s+2026-01-02 02:00:00Z/);
    assert.match(detail, /last run\s+2026-01-01 02:00:00Z skipped/);
    assert.match(detail, /runs\s+4 created, 1 skipped/);
    const table = formatScheduleTable([{ ...sample, paused: true, nextRunAt: null }], Date.parse('2026-01-01T00:00:00Z'));
    assert.match(table, /^ID\s+NAME\s+CRON/);
    assert.match(table, /nightly\s+0 3 \* \* \*\s+Europe\/Berlin\s+paused\s+-\s+4/);
  });
});
