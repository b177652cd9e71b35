import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { TaskExecutionError, type ExecutionContext } from '../../../../../src/ki/executors/types';
import { processGroupAlive } from '../../../../../src/ki/executors/process-group';
import { PluginWorkerPool, reservationKey, type PluginWorkerPoolOptions } from '../../../../../src/ki/executors/plugin-workers/worker-pool';
import { createMetrics, type Metrics } from '../../../../../src/observability/metrics';
import { silentLogger } from '../../../../../src/observability/logger';
import { fakeContext } from '../../../../fixtures/ki/execution-context';
import { waitFor } from '../../../../helpers/wait';

const PLUGIN = join(__dirname, '../../../../fixtures/ki/plugins/gpu-worker.js');
const HOSTILE = join(__dirname, '../../../../fixtures/ki/plugin-workers/hostile-worker.js');
const gpu = (index: number) => ({ index, uuid: `GPU-test-${index}`, name: 'Fake', memoryMiB: 1024, memoryUsedMiB: 0 });

interface WhoAmI { cuda: string | null; pid: number; calls: number; gpus: number[]; secret: string | null }

function isWorkerExited(err: unknown): boolean {
  assert.ok(err instanceof TaskExecutionError, `expected a TaskExecutionError, got ${String(err)}`);
  assert.equal(err.code, 'WORKER_EXITED');
  assert.equal(err.retryable, true);
  return true;
}

describe('PluginWorkerPool (real worker processes)', function () {
  this.timeout(30_000);
  let pool: PluginWorkerPool;
  let metrics: Metrics;

  const makePool = (overrides: Partial<PluginWorkerPoolOptions> = {}): PluginWorkerPool => {
    metrics = createMetrics(new Registry(), 'ki');
    pool = new PluginWorkerPool({
      handlersPath: PLUGIN, nodeId: 'ki-test', logLevel: 'silent', killGraceMs: 200, idleMs: 0, log: silentLogger(), metrics,
      env: { ...process.env, AES_KEYS: 'k1:secret' }, ...overrides,
    });
    return pool;
  };
  const whoami = async (ctx: ExecutionContext): Promise<WhoAmI> => (await pool.run('whoami', {}, ctx)) as WhoAmI;
  const gauge = async (state: string) => (await metrics.kiGpuWorkers.get()).values.find((v) => v.labels['state'] === state)?.value ?? 0;
  const restarts = async (reason: string) => (await metrics.kiGpuWorkerRestarts.get()).values.find((v) => v.labels['reason'] === reason)?.value ?? 0;

  afterEach(async () => {
    await pool?.stop();
  });

  it('keys a reservation by its sorted GPU indices', () => {
    assert.equal(reservationKey({ gpus: [gpu(3), gpu(1)] }), '1,3');
    assert.equal(reservationKey({ gpus: [] }), '');
  });

  it('runs a call in a worker of its reservation, with CUDA_VISIBLE_DEVICES set to it and without the Ki\'s secrets, and reuses that worker', async () => {
    makePool();
    const ctx = fakeContext({ gpus: [gpu(0)] });
    const first = await whoami(ctx);
    const second = await whoami(fakeContext({ gpus: [gpu(0)] }));
    const pair = await whoami(fakeContext({ gpus: [gpu(1), gpu(0)] }));
    assert.equal(first.cuda, 'GPU-test-0');
    assert.notEqual(first.pid, process.pid, 'not in the Ki\'s process');
    assert.equal(first.secret, null, 'the Ki\'s sensitive settings are not passed on');
    assert.deepEqual([second.pid, second.calls], [first.pid, 2], 'the same process serves the next call on the same GPUs');
    assert.equal(pair.cuda, 'GPU-test-1,GPU-test-0');
    assert.deepEqual(pair.gpus, [1, 0]);
    assert.notEqual(pair.pid, first.pid, 'another reservation gets a worker of its own');
    assert.equal(pair.calls, 1);
    assert.deepEqual(ctx.emitted, ['hello ', '{"from":"whoami"}'], 'emitted output reaches the task\'s context in order');
    assert.deepEqual(ctx.reported, [[0, undefined], [0.5, 'halfway']], 'a fraction that is not a number arrives as 0, as in-process');
    assert.equal(await gauge('idle'), 2);
  });

  it('lets a worker go after its idle time and starts a fresh one for the next call', async () => {
    makePool({ idleMs: 50 });
    const first = await whoami(fakeContext({ gpus: [gpu(0)] }));
    await waitFor(() => pool.workerOf('0'), (w) => w === undefined, { what: 'the idle worker ended' });
    assert.equal(await gauge('idle'), 0);
    assert.equal(await restarts('exited'), 0, 'an idle end is not a restart');
    const next = await whoami(fakeContext({ gpus: [gpu(0)] }));
    assert.notEqual(next.pid, first.pid);
    assert.equal(next.calls, 1);
  });

  it('fails the call of a worker that exits with a retryable WORKER_EXITED, and the next call gets a new worker', async () => {
    makePool();
    const before = await whoami(fakeContext({ gpus: [gpu(0)] }));
    await assert.rejects(pool.run('exit', {}, fakeContext({ gpus: [gpu(0)] })), (err) => isWorkerExited(err) && /exited \(code 3\)/.test((err as Error).message));
    assert.equal(await restarts('exited'), 1);
    const after = await whoami(fakeContext({ gpus: [gpu(0)] }));
    assert.notEqual(after.pid, before.pid);
  });

  it('aborts the handler\'s ctx.signal on cancel and keeps a worker whose call ended', async () => {
    makePool();
    const before = await whoami(fakeContext({ gpus: [gpu(0)] }));
    const abort = new AbortController();
    const call = pool.run('untilAborted', {}, fakeContext({ gpus: [gpu(0)], signal: abort.signal }));
    await waitFor(() => gauge('busy'), (n) => n === 1, { what: 'the call is running' });
    abort.abort(new Error('cancelled: by test'));
    await assert.rejects(call, /stopped: cancelled: by test/);
    const after = await whoami(fakeContext({ gpus: [gpu(0)] }));
    assert.equal(after.pid, before.pid, 'the worker was not killed');
    assert.equal(await restarts('killed'), 0);
  });

  it('kills a worker whose call ignores its cancel past the grace, failing only its calls, and starts a new one', async () => {
    makePool();
    const before = await whoami(fakeContext({ gpus: [gpu(0)] }));
    const abort = new AbortController();
    const stuck = pool.run('hang', {}, fakeContext({ gpus: [gpu(0)], signal: abort.signal }));
    const other = whoami(fakeContext({ gpus: [gpu(1)] }));
    await waitFor(() => gauge('busy'), (n) => n >= 1, { what: 'the call is running' });
    abort.abort(new Error('timed out'));
    await assert.rejects(stuck, (err) => isWorkerExited(err) && /ignored its cancel/.test((err as Error).message));
    assert.equal((await other).calls, 1, 'another reservation\'s worker is untouched');
    assert.equal(await restarts('killed'), 1);
    const after = await whoami(fakeContext({ gpus: [gpu(0)] }));
    assert.notEqual(after.pid, before.pid);
  });

  it('kills what a killed worker started, with it', async () => {
    makePool();
    const abort = new AbortController();
    const stuck = pool.run('spawnAndHang', {}, fakeContext({ gpus: [gpu(0)], signal: abort.signal }));
    await waitFor(() => gauge('busy'), (n) => n === 1, { what: 'the call is running' });
    const pid = pool.workerOf('0')?.pid;
    assert.ok(pid !== undefined);
    abort.abort(new Error('cancelled'));
    await assert.rejects(stuck, isWorkerExited);
    await waitFor(() => processGroupAlive(pid), (alive) => !alive, { what: 'the worker\'s process group gone' });
  });

  it('kills a worker that sends what the protocol does not allow, failing its call', async () => {
    makePool({ workerModule: HOSTILE });
    const run = (payload: unknown) => pool.run('any', payload, fakeContext({ gpus: [gpu(0)] }));
    await assert.rejects(run({ frame: '{"t":"result","call":$NEXT,"result":1}' }), (err) => isWorkerExited(err) && /broke the protocol/.test((err as Error).message), 'a call never sent');
    await assert.rejects(run({ frame: '{"t":"launch","call":$CALL}' }), isWorkerExited, 'an unknown message');
    await assert.rejects(run({ frame: 'not json' }), isWorkerExited);
    await assert.rejects(run({ frame: '{"t":"result","call":$CALL,"result":1,"taskId":"another"}' }), isWorkerExited, 'a field the protocol does not have');
    await assert.rejects(run({ frame: '{"t":"error","call":$CALL,"error":{"code":"X","message":"m","retryable":"yes"}}' }), isWorkerExited);
    await assert.rejects(run({ huge: 9 * 1024 * 1024 }), isWorkerExited, 'a frame larger than the bound');
    assert.equal(await restarts('protocol'), 6);
    assert.deepEqual(await run({ frame: '{"t":"result","call":$CALL,"result":{"ok":true}}' }), { ok: true }, 'a well-formed answer still settles');
  });

  it('rebuilds a worker\'s error report as the task error an in-process handler would have thrown', async () => {
    makePool({ workerModule: HOSTILE });
    await assert.rejects(
      pool.run('any', { frame: '{"t":"error","call":$CALL,"error":{"code":"BAD_PAYLOAD","message":"n must be a number","retryable":false}}' }, fakeContext({ gpus: [gpu(0)] })),
      (err) => err instanceof TaskExecutionError && err.code === 'BAD_PAYLOAD' && !err.retryable && err.message === 'n must be a number',
    );
  });

  it('refuses calls once stopped, and stopping ends every worker', async () => {
    makePool();
    await whoami(fakeContext({ gpus: [gpu(0)] }));
    await pool.stop();
    assert.equal(pool.workerOf('0'), undefined);
    await assert.rejects(pool.run('whoami', {}, fakeContext({ gpus: [gpu(0)] })), isWorkerExited);
  });
});
