import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { BUILTIN_EXECUTORS, builtinExecutors, cpuExecutor, demoTypesEnabled, echoExecutor, failExecutor, sleepExecutor } from '../../../src/ki/executors/builtins';
import { TaskExecutionError, type ExecutionContext } from '../../../src/ki/executors/types';
import { silentLogger } from '../../../src/observability/logger';

/** A hand-built execution context that records progress reports. */
function context(signal: AbortSignal = new AbortController().signal, onProgress?: (fraction: number) => void) {
  const progress: number[] = [];
  const ctx: ExecutionContext = {
    taskId: '8e3c1c1e-2f55-4a43-9b59-2b8f1f0f6f10',
    attempt: 1,
    type: 'builtin',
    signal,
    gpus: [],
    timeoutMs: 60_000,
    emit() {},
    log: silentLogger(),
    progress(fraction) {
      progress.push(fraction);
      onProgress?.(fraction);
    },
  };
  return { ctx, progress };
}

/** Asserts a TaskExecutionError with the given code. */
const failsWith = (code: string, retryable?: boolean) => (err: unknown) => {
  assert.ok(err instanceof TaskExecutionError, `expected TaskExecutionError, got ${String(err)}`);
  assert.equal(err.code, code);
  if (retryable !== undefined) assert.equal(err.retryable, retryable);
  return true;
};

/** The digest the cpu executor documents: `rounds` of SHA-256 starting from 32 zero bytes. */
function expectedDigest(rounds: number): string {
  let d = Buffer.alloc(32);
  for (let i = 0; i < rounds; i++) d = createHash('sha256').update(d).digest();
  return d.toString('hex');
}

describe('builtin executors', () => {
  it('registers echo, sleep, fail and cpu under their names', () => {
    assert.deepEqual(Object.keys(BUILTIN_EXECUTORS).sort(), ['cpu', 'echo', 'fail', 'sleep']);
    assert.equal(BUILTIN_EXECUTORS['echo'], echoExecutor);
  });

  it('offers only echo and fail unless demo types are enabled, so no submitter can hold slots with sleep or burn CPU', () => {
    assert.deepEqual(Object.keys(builtinExecutors(false)).sort(), ['echo', 'fail']);
    assert.deepEqual(Object.keys(builtinExecutors(true)).sort(), ['cpu', 'echo', 'fail', 'sleep']);
  });

  it('enables demo types by ki.demoTypes, else only for standalone in development', () => {
    assert.equal(demoTypesEnabled('', false, 'development'), false, 'a Ki of a cluster');
    assert.equal(demoTypesEnabled('', false, 'production'), false);
    assert.equal(demoTypesEnabled('', true, 'production'), false, 'standalone in production');
    assert.equal(demoTypesEnabled('', true, 'test'), false);
    assert.equal(demoTypesEnabled('', true, 'development'), true, 'the README quickstart');
    assert.equal(demoTypesEnabled('true', false, 'production'), true);
    assert.equal(demoTypesEnabled('false', true, 'development'), false);
  });

  describe('echo', () => {
    it('returns its payload unchanged', async () => {
      const payload = { prompt: 'hi', list: [1, 2, { x: null }] };
      assert.deepEqual(await echoExecutor(payload, context().ctx), payload);
      assert.equal(await echoExecutor('text', context().ctx), 'text');
    });

    it('returns null for a missing payload, so the result is JSON', async () => {
      assert.equal(await echoExecutor(undefined, context().ctx), null);
    });
  });

  describe('sleep', () => {
    it('waits the given milliseconds and says how long it slept', async () => {
      assert.deepEqual(await sleepExecutor({ ms: 5 }, context().ctx), { slept: 5 });
      assert.deepEqual(await sleepExecutor({}, context().ctx), { slept: 0 });
    });

    it('stops promptly with code ABORTED when its signal fires', async () => {
      const ac = new AbortController();
      const running = sleepExecutor({ ms: 3_600_000 }, context(ac.signal).ctx);
      ac.abort('cancelled by user');
      await assert.rejects(running, (err: unknown) => {
        failsWith('ABORTED', false)(err);
        assert.match((err as Error).message, /cancelled by user/);
        return true;
      });
    });

    it('does not start when its signal has already fired', async () => {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(sleepExecutor({ ms: 3_600_000 }, context(ac.signal).ctx), failsWith('ABORTED'));
    });

    it('refuses a bad number of milliseconds with code BAD_PAYLOAD', async () => {
      for (const ms of [-1, 'soon', 86_400_001, Number.POSITIVE_INFINITY, Number.NaN]) {
        await assert.rejects(sleepExecutor({ ms }, context().ctx), failsWith('BAD_PAYLOAD', false), `ms=${String(ms)}`);
      }
    });

    it('ignores an abort that comes after it finished', async () => {
      const ac = new AbortController();
      assert.deepEqual(await sleepExecutor({ ms: 1 }, context(ac.signal).ctx), { slept: 1 });
      assert.doesNotThrow(() => ac.abort());
    });
  });

  describe('fail', () => {
    it('throws a TaskExecutionError with the message and retryable flag of its payload', async () => {
      await assert.rejects(failExecutor({ message: 'GPU fell off the bus', retryable: true }, context().ctx), (err: unknown) => {
        failsWith('TASK_FAILED', true)(err);
        assert.equal((err as Error).message, 'GPU fell off the bus');
        return true;
      });
    });

    it('is not retryable unless the payload says exactly true', async () => {
      await assert.rejects(failExecutor({ message: 'no', retryable: 'yes' }, context().ctx), failsWith('TASK_FAILED', false));
      await assert.rejects(failExecutor({ message: 'no' }, context().ctx), failsWith('TASK_FAILED', false));
    });

    it('uses a default message when the payload gives none', async () => {
      await assert.rejects(failExecutor(null, context().ctx), /task failed on purpose/);
      await assert.rejects(failExecutor({ message: 42 }, context().ctx), /task failed on purpose/);
    });
  });

  describe('cpu', () => {
    it('returns the hex SHA-256 chain digest for the number of rounds', async () => {
      const out = await cpuExecutor({ rounds: 3 }, context().ctx) as { rounds: number; digest: string };
      assert.equal(out.rounds, 3);
      assert.match(out.digest, /^[0-9a-f]{64}$/);
      assert.equal(out.digest, expectedDigest(3));
    });

    it('returns the same digest for the same rounds and a different one for other rounds', async () => {
      const a = await cpuExecutor({ rounds: 1234 }, context().ctx) as { digest: string };
      const b = await cpuExecutor({ rounds: 1234 }, context().ctx) as { digest: string };
      const c = await cpuExecutor({ rounds: 1235 }, context().ctx) as { digest: string };
      assert.equal(a.digest, b.digest);
      assert.notEqual(a.digest, c.digest);
    });

    it('runs 1000 rounds when the payload names none, and zero rounds gives the zero digest', async () => {
      assert.equal((await cpuExecutor(undefined, context().ctx) as { rounds: number }).rounds, 1000);
      assert.equal((await cpuExecutor({ rounds: 0 }, context().ctx) as { digest: string }).digest, '0'.repeat(64));
    });

    it('reports increasing progress below 1 for large rounds, and the digest still matches', async () => {
      const { ctx, progress } = context();
      const out = await cpuExecutor({ rounds: 50_000 }, ctx) as { digest: string };
      assert.deepEqual(progress, [0.4, 0.8]);
      assert.equal(out.digest, expectedDigest(50_000));
    });

    it('reports no progress for rounds that fit in one slice', async () => {
      const { ctx, progress } = context();
      await cpuExecutor({ rounds: 100 }, ctx);
      assert.deepEqual(progress, []);
    });

    it('stops with code ABORTED when its signal fires while it runs', async () => {
      const ac = new AbortController();
      const { ctx, progress } = context(ac.signal, () => ac.abort('timeout'));
      await assert.rejects(cpuExecutor({ rounds: 100_000_000 }, ctx), failsWith('ABORTED'));
      assert.equal(progress.length, 1);
    });

    it('stops after its first slice when its signal fired before it started', async () => {
      const ac = new AbortController();
      ac.abort();
      const { ctx, progress } = context(ac.signal);
      await assert.rejects(cpuExecutor({ rounds: 100_000_000 }, ctx), failsWith('ABORTED'));
      assert.deepEqual(progress, []);
    });

    it('refuses rounds that are not a whole number in range with code BAD_PAYLOAD', async () => {
      for (const rounds of [1.5, -1, 100_000_001, 'many']) {
        await assert.rejects(cpuExecutor({ rounds }, context().ctx), failsWith('BAD_PAYLOAD'), `rounds=${String(rounds)}`);
      }
    });
  });
});
