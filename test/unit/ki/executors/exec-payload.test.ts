import { strict as assert } from 'node:assert';
import { ConfigError } from '../../../../src/errors';
import { createExecExecutor } from '../../../../src/ki/executors/exec';
import { parseExecAllowlist } from '../../../../src/ki/executors/exec-allowlist';
import { parseExecPayload } from '../../../../src/ki/executors/exec-payload';
import { TaskExecutionError } from '../../../../src/ki/executors/types';
import { fakeContext } from '../../../fixtures/ki/execution-context';

function isTaskError(code: string, message?: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof TaskExecutionError, `expected a TaskExecutionError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.retryable, false);
    if (message) assert.match(err.message, message);
    return true;
  };
}

describe('exec executor, before anything is started', () => {
  // These cases must be refused without spawning: the allowlist points at a file that does not exist.
  const exec = createExecExecutor({ allowlist: { echo: '/nonexistent/echo' }, maxOutputBytes: 1024, killGraceMs: 100 });

  it('refuses a command that is not in the allowlist, naming it', async () => {
    await assert.rejects(exec({ command: 'rm', args: ['-rf', '/'] }, fakeContext()), isTaskError('EXEC_NOT_ALLOWED', /"rm"/));
  });

  it('refuses a path even when it is the path of an allowed command', async () => {
    await assert.rejects(exec({ command: '/nonexistent/echo' }, fakeContext()), isTaskError('EXEC_NOT_ALLOWED'));
  });

  it('refuses names inherited from Object.prototype', async () => {
    await assert.rejects(exec({ command: 'constructor' }, fakeContext()), isTaskError('EXEC_NOT_ALLOWED'));
    await assert.rejects(exec({ command: '__proto__' }, fakeContext()), isTaskError('EXEC_NOT_ALLOWED'));
  });

  it('refuses a payload that asks for a working directory', async () => {
    await assert.rejects(exec({ command: 'echo', cwd: '/etc' }, fakeContext()), isTaskError('BAD_PAYLOAD', /cwd/));
  });

  it('refuses payloads of the wrong shape with BAD_PAYLOAD naming the field', async () => {
    await assert.rejects(exec('echo hi', fakeContext()), isTaskError('BAD_PAYLOAD'));
    await assert.rejects(exec({ command: 'echo', args: 'hi' }, fakeContext()), isTaskError('BAD_PAYLOAD', /args/));
    await assert.rejects(exec({ command: 'echo', env: { A: 1 } }, fakeContext()), isTaskError('BAD_PAYLOAD', /env/));
    await assert.rejects(exec({ command: 'echo', args: ['a\0b'] }, fakeContext()), isTaskError('BAD_PAYLOAD', /NUL/));
  });

  it('refuses loader variables that would inject code into the allowed command', async () => {
    await assert.rejects(exec({ command: 'echo', env: { LD_PRELOAD: '/tmp/x.so' } }, fakeContext()), isTaskError('BAD_PAYLOAD', /LD_PRELOAD/));
  });

  it('refuses any environment variable for a command given as a bare path, naming the variable', async () => {
    await assert.rejects(exec({ command: 'echo', env: { MODEL: 'llama' } }, fakeContext()), isTaskError('BAD_PAYLOAD', /env MODEL is not allowed for command "echo"/));
  });

  it('rejects with ABORTED without starting anything when the task is already cancelled', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled by operator'));
    await assert.rejects(exec({ command: 'echo' }, fakeContext({ signal: controller.signal })), isTaskError('ABORTED', /cancelled by operator/));
  });
});

describe('parseExecPayload', () => {
  it('keeps command, args, env and stdin', () => {
    const payload = { command: 'sh', args: ['-c', 'cat'], env: { MODEL: 'llama' }, stdin: 'hi' };
    assert.deepEqual(parseExecPayload(payload), payload);
  });
});

describe('exec allowlist', () => {
  it('reads the ki.execAllowlist JSON, treating an empty value as empty', () => {
    assert.deepEqual({ ...parseExecAllowlist('{"echo":"/bin/echo"}') }, { echo: { path: '/bin/echo', env: new Set() } });
    assert.deepEqual({ ...parseExecAllowlist('') }, {});
  });

  it('refuses relative command paths, odd names and non-objects, naming ki.execAllowlist', () => {
    assert.throws(() => parseExecAllowlist('{"echo":"echo"}'), (e: unknown) => e instanceof ConfigError && /ki\.execAllowlist: "echo" must map to an absolute path/.test(e.message));
    assert.throws(() => parseExecAllowlist('{"../x":"/bin/echo"}'), /ki\.execAllowlist: name/);
    assert.throws(() => parseExecAllowlist('["/bin/echo"]'), /ki\.execAllowlist must be a JSON object/);
    assert.throws(() => parseExecAllowlist('{'), /ki\.execAllowlist is not valid JSON/);
    assert.throws(() => createExecExecutor({ allowlist: { echo: 'bin/echo' }, maxOutputBytes: 1, killGraceMs: 1 }), ConfigError);
  });
});
