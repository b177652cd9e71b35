import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExecExecutor, type ExecResult } from '../../../src/ki/executors/exec';
import { TaskExecutionError } from '../../../src/ki/executors/types';
import type { GpuDevice } from '../../../src/ki/gpu';
import { fakeContext } from '../../fixtures/ki/execution-context';

const allowlist = {
  echo: '/bin/echo', cat: '/bin/cat', sleep: '/bin/sleep', missing: '/nonexistent/bin/tool',
  sh: { path: '/bin/sh', env: ['PIDS'] },
  env: { path: '/usr/bin/env', env: ['MODEL'] },
};
const exec = createExecExecutor({ allowlist, maxOutputBytes: 4096, killGraceMs: 200 });

const gpus: GpuDevice[] = [
  { index: 0, uuid: 'GPU-fake-0', name: 'Fake', memoryMiB: 24576, memoryUsedMiB: 0 },
  { index: 1, uuid: 'GPU-fake-1', name: 'Fake', memoryMiB: 81920, memoryUsedMiB: 0 },
];

/**
 * True when `pid` no longer runs. A zombie counts as gone: it has exited and only waits for
 * its (new) parent to reap it, which an init process in a container may never do.
 */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw err;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

async function waitFor<T>(read: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function taskError(err: unknown, code: string): TaskExecutionError & { details: ExecResult } {
  assert.ok(err instanceof TaskExecutionError, `expected a TaskExecutionError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return err as TaskExecutionError & { details: ExecResult };
}

describe('exec executor running real processes', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'anki-exec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Waits for the "shellPid childPid" line a test script writes (atomically, via mv). */
  const readPids = (file: string): Promise<[number, number]> =>
    waitFor(() => (existsSync(file) ? (readFileSync(file, 'utf8').trim().split(' ').map(Number) as [number, number]) : undefined), `pid file ${file}`);

  it('captures stdout and exit code 0 of an allowed command', async () => {
    const result = await exec({ command: 'echo', args: ['hello', 'world'] }, fakeContext());
    assert.deepEqual(result, { exitCode: 0, signal: null, stdout: 'hello world\n', stderr: '', truncated: false });
  });

  it('passes arguments without a shell, so metacharacters stay literal', async () => {
    const result = (await exec({ command: 'echo', args: ['$HOME', '; rm -rf /', '`id`'] }, fakeContext())) as ExecResult;
    assert.equal(result.stdout, '$HOME ; rm -rf / `id`\n');
  });

  it('feeds stdin to the command', async () => {
    const result = (await exec({ command: 'cat', stdin: 'prompt text' }, fakeContext())) as ExecResult;
    assert.equal(result.stdout, 'prompt text');
  });

  it('gives a workflow task its inputs as JSON on stdin, unless the payload sets stdin', async () => {
    const inputs = { list: [1, 2, 3], note: 'é' };
    const fed = (await exec({ command: 'cat' }, fakeContext({ inputs }))) as ExecResult;
    assert.deepEqual(JSON.parse(fed.stdout), inputs);
    const own = (await exec({ command: 'cat', stdin: 'mine' }, fakeContext({ inputs }))) as ExecResult;
    assert.equal(own.stdout, 'mine');
  });

  it('fails with EXEC_EXIT carrying the result when the command exits non-zero', async () => {
    await assert.rejects(exec({ command: 'sh', args: ['-c', 'echo partial; echo oops >&2; exit 3'] }, fakeContext()), (err: unknown) => {
      const e = taskError(err, 'EXEC_EXIT');
      assert.equal(e.retryable, false);
      assert.match(e.message, /"sh" exited with code 3: oops/);
      assert.deepEqual(e.details, { exitCode: 3, signal: null, stdout: 'partial\n', stderr: 'oops\n', truncated: false });
      return true;
    });
  });

  it('keeps at most maxOutputBytes of each stream and marks the result truncated', async () => {
    const small = createExecExecutor({ allowlist, maxOutputBytes: 1000, killGraceMs: 200 });
    const script = 'i=0; while [ $i -lt 3000 ]; do echo 0123456789; i=$((i+1)); done; echo short >&2';
    const result = (await small({ command: 'sh', args: ['-c', script] }, fakeContext())) as ExecResult;
    assert.equal(result.exitCode, 0, 'the command was not blocked by a full pipe');
    assert.equal(result.stdout.length, 1000);
    assert.equal(result.stderr, 'short\n');
    assert.equal(result.truncated, true);
  });

  it('shows a GPU task only its GPUs and none of the Ki environment', async () => {
    process.env['ANKI_TEST_SECRET'] = 'must-not-leak';
    try {
      const result = (await exec({ command: 'env', env: { MODEL: 'llama' } }, fakeContext({ gpus }))) as ExecResult;
      const vars = Object.fromEntries(result.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      assert.deepEqual(Object.keys(vars).sort(), ['CUDA_VISIBLE_DEVICES', 'MODEL', 'PATH']);
      assert.equal(vars['CUDA_VISIBLE_DEVICES'], 'GPU-fake-0,GPU-fake-1');
      assert.equal(vars['MODEL'], 'llama');
      assert.equal(vars['PATH'], '/usr/local/bin:/usr/bin:/bin', 'the Ki sets PATH; its own is not inherited');
      await assert.rejects(exec({ command: 'env', env: { CUDA_VISIBLE_DEVICES: '0,1,2,3' } }, fakeContext({ gpus })), (err: unknown) => {
        taskError(err, 'BAD_PAYLOAD');
        return true;
      });
    } finally {
      delete process.env['ANKI_TEST_SECRET'];
    }
  });

  it('hides every GPU from a CPU task', async () => {
    const result = (await exec({ command: 'sh', args: ['-c', 'echo "[${CUDA_VISIBLE_DEVICES-unset}]"'] }, fakeContext({ gpus: [] }))) as ExecResult;
    assert.equal(result.stdout, '[]\n');
  });

  it('on abort ends the command and its child and rejects only when both are gone', async () => {
    const pidFile = join(dir, 'pids');
    const controller = new AbortController();
    const script = 'sleep 30 & echo "$$ $!" > "$PIDS.tmp" && mv "$PIDS.tmp" "$PIDS"; wait';
    const pending = exec({ command: 'sh', args: ['-c', script], env: { PIDS: pidFile } }, fakeContext({ signal: controller.signal }));
    const [shellPid, childPid] = await readPids(pidFile);
    assert.equal(isGone(childPid), false, 'the child runs before the abort');
    controller.abort(new Error('cancelled by operator'));
    await assert.rejects(pending, (err: unknown) => {
      const e = taskError(err, 'ABORTED');
      assert.match(e.message, /cancelled by operator/);
      assert.equal(e.details.signal, 'SIGTERM');
      return true;
    });
    assert.ok(isGone(shellPid), 'the command is gone');
    assert.ok(isGone(childPid), 'its child is gone too: no orphan remains');
  });

  it('on a timeout signal rejects with ABORTED naming the timeout', async () => {
    await assert.rejects(exec({ command: 'sleep', args: ['30'] }, fakeContext({ signal: AbortSignal.timeout(50) })), (err: unknown) => {
      assert.match(taskError(err, 'ABORTED').message, /timeout/i);
      return true;
    });
  });

  it('kills with SIGKILL after killGraceMs a process group that ignores SIGTERM', async () => {
    const pidFile = join(dir, 'pids');
    const controller = new AbortController();
    const script = 'trap "" TERM; sleep 30 & echo "$$ $!" > "$PIDS.tmp" && mv "$PIDS.tmp" "$PIDS"; wait';
    const pending = exec({ command: 'sh', args: ['-c', script], env: { PIDS: pidFile } }, fakeContext({ signal: controller.signal }));
    const [shellPid, childPid] = await readPids(pidFile);
    controller.abort(new Error('task timed out'));
    await assert.rejects(pending, (err: unknown) => {
      assert.equal(taskError(err, 'ABORTED').details.signal, 'SIGKILL');
      return true;
    });
    assert.ok(isGone(shellPid) && isGone(childPid), 'nothing of the group remains');
  });

  it('ends what a command left running in the background when it exits', async () => {
    const pidFile = join(dir, 'pids');
    const script = 'sleep 30 >/dev/null 2>&1 & echo "$$ $!" > "$PIDS.tmp" && mv "$PIDS.tmp" "$PIDS"; echo done';
    const result = (await exec({ command: 'sh', args: ['-c', script], env: { PIDS: pidFile } }, fakeContext())) as ExecResult;
    assert.equal(result.stdout, 'done\n');
    const [, childPid] = await readPids(pidFile);
    assert.ok(isGone(childPid), 'the background sleep was ended with the task');
  });

  it('finishes when a background child holds the output pipe open after the command exits', async () => {
    const result = (await exec({ command: 'sh', args: ['-c', 'sleep 30 & echo started'] }, fakeContext())) as ExecResult;
    assert.deepEqual([result.exitCode, result.stdout], [0, 'started\n']);
  });

  it('reports an allowlisted command that is missing on this Ki as EXEC_SPAWN_FAILED', async () => {
    await assert.rejects(exec({ command: 'missing' }, fakeContext()), (err: unknown) => {
      const e = taskError(err, 'EXEC_SPAWN_FAILED');
      assert.equal(e.retryable, false);
      assert.match(e.message, /ENOENT/);
      return true;
    });
  });
});
