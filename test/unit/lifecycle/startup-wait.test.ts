import { strict as assert } from 'node:assert';
import { StartupTimeoutError, waitForDependency, type StartupWaitOptions } from '../../../src/lifecycle/startup-wait';
import type { Logger } from '../../../src/observability';

function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5999'), { code: 'ECONNREFUSED' });
}

/** A clock that moves only when the wait sleeps, and a logger that keeps its lines. */
function harness(deadlineMs: number) {
  let clock = 0;
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const log = { warn: (obj: Record<string, unknown>, msg: string) => lines.push({ level: 'warn', obj, msg }) } as unknown as Logger;
  const options: StartupWaitOptions = {
    what: 'database', target: 'db.example:5432', deadlineMs, log,
    isTransient: (err) => (err as { code?: string }).code === 'ECONNREFUSED',
    now: () => clock, sleep: async (ms) => { clock += ms; },
  };
  return { options, lines };
}

describe('waiting for a dependency at start-up', () => {
  it('retries an unreachable one with one line per try, without a stack, until it answers', async () => {
    const { options, lines } = harness(60_000);
    let tries = 0;
    const value = await waitForDependency(async () => { if (++tries < 4) throw refused(); return 'open'; }, options);
    assert.equal(value, 'open');
    assert.equal(lines.length, 3, 'one line per failed try');
    for (const [i, line] of lines.entries()) {
      assert.equal(line.msg, 'database not reachable yet; retrying');
      assert.equal(line.obj['attempt'], i + 1);
      assert.equal(line.obj['target'], 'db.example:5432');
      assert.equal(line.obj['err'], 'connect ECONNREFUSED 127.0.0.1:5999');
      assert.ok((line.obj['retryInMs'] as number) > 0);
      assert.ok(!JSON.stringify(line.obj).includes('    at '), 'no stack');
    }
  });

  it('gives up past the deadline with one line naming the target and the last error', async () => {
    const { options } = harness(3000);
    const err = await waitForDependency(async () => { throw refused(); }, options).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof StartupTimeoutError);
    assert.equal(err.code, 'STARTUP_TIMEOUT');
    assert.match(err.message, /^database at db\.example:5432 not reachable within 3000 ms \(\d+ attempts, last error: connect ECONNREFUSED 127\.0\.0\.1:5999\); giving up$/);
  });

  it('throws a failure that time will not fix at once', async () => {
    const { options, lines } = harness(60_000);
    const denied = Object.assign(new Error('password authentication failed for user "anki"'), { code: '28P01' });
    await assert.rejects(waitForDependency(async () => { throw denied; }, options), (e) => e === denied);
    assert.equal(lines.length, 0);
  });
});
