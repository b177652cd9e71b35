import { strict as assert } from 'node:assert';
import { ConfigError } from '../../../../src/errors';
import { createExecExecutor } from '../../../../src/ki/executors/exec';
import { checkExecAllowlist, isNeverTaskControlled } from '../../../../src/ki/executors/exec-allowlist';
import { checkCanRunAs, resolveExecUser, type ExecUserSystem } from '../../../../src/ki/executors/exec-user';
import { TaskExecutionError } from '../../../../src/ki/executors/types';
import { fakeContext } from '../../../fixtures/ki/execution-context';

function badPayload(message: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof TaskExecutionError, `expected a TaskExecutionError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_PAYLOAD');
    assert.equal(err.retryable, false);
    assert.match(err.message, message);
    return true;
  };
}

const configError = (message: RegExp) => (err: unknown): boolean => err instanceof ConfigError && message.test(err.message);

describe('exec allowlist entries: what a task may pass to each command', () => {
  // Refused before anything is spawned: the paths do not exist.
  const exec = createExecExecutor({
    allowlist: {
      infer: { path: '/nonexistent/infer', env: ['MODEL', 'TOKENS'], args: '--[a-z-]+|[A-Za-z0-9._]+', maxArgs: 3 },
      bare: '/nonexistent/bare',
    },
    maxOutputBytes: 1024,
    killGraceMs: 100,
  });

  it('refuses a variable the entry does not list, naming it', async () => {
    await assert.rejects(exec({ command: 'infer', env: { MODEL: 'm', BASH_ENV: '/tmp/x' } }, fakeContext()), badPayload(/env BASH_ENV is not allowed for command "infer"/));
    await assert.rejects(exec({ command: 'bare', env: { NODE_OPTIONS: '--require /tmp/x.js' } }, fakeContext()), badPayload(/NODE_OPTIONS/));
    await assert.rejects(exec({ command: 'infer', env: { PATH: '/tmp' } }, fakeContext()), badPayload(/env PATH/));
  });

  it('refuses more arguments than maxArgs and an argument that does not fully match the pattern', async () => {
    await assert.rejects(exec({ command: 'infer', args: ['a', 'b', 'c', 'd'] }, fakeContext()), badPayload(/at most 3 arguments, got 4/));
    await assert.rejects(exec({ command: 'infer', args: ['--model', 'x; rm -rf /'] }, fakeContext()), badPayload(/args\.1 does not match/));
    // The pattern is anchored by the Ki: a partial match is no match.
    await assert.rejects(exec({ command: 'infer', args: ['ok/../../etc'] }, fakeContext()), badPayload(/args\.0/));
  });

  it('keeps a bare path entry free in its arguments', async () => {
    await assert.rejects(exec({ command: 'bare', args: ['; anything', '$(x)'] }, fakeContext()), (err: unknown) => err instanceof TaskExecutionError && err.code === 'EXEC_SPAWN_FAILED');
  });

  it('refuses at start-up an entry listing a variable no task may ever control, naming the entry', () => {
    for (const name of ['PATH', 'LD_PRELOAD', 'DYLD_INSERT_LIBRARIES', 'BASH_ENV', 'ENV', 'NODE_OPTIONS', 'PYTHONPATH', 'PYTHONSTARTUP', 'PERL5OPT', 'PERL5LIB', 'RUBYOPT', 'IFS', 'CUDA_VISIBLE_DEVICES', 'JAVA_TOOL_OPTIONS', 'HOME']) {
      assert.throws(() => checkExecAllowlist({ job: { path: '/bin/job', env: ['MODEL', name] } }), configError(new RegExp(`ki\\.execAllowlist: "job" env ${name} can never be set by a task`)), name);
    }
    assert.ok(isNeverTaskControlled('bash_env'), 'names are compared without regard to case');
  });

  it('refuses malformed entries with the entry named', () => {
    assert.throws(() => checkExecAllowlist({ job: { env: ['MODEL'] } }), configError(/"job" must map to an absolute path/));
    assert.throws(() => checkExecAllowlist({ job: { path: '/bin/job', env: 'MODEL' } }), configError(/"job" env must be a list/));
    assert.throws(() => checkExecAllowlist({ job: { path: '/bin/job', env: ['A-B'] } }), configError(/"job" env entry "A-B" is not a variable name/));
    assert.throws(() => checkExecAllowlist({ job: { path: '/bin/job', args: '(' } }), configError(/"job" args is not a valid regular expression/));
    assert.throws(() => checkExecAllowlist({ job: { path: '/bin/job', maxArgs: -1 } }), configError(/"job" maxArgs/));
    assert.throws(() => checkExecAllowlist({ job: { path: '/bin/job', cwd: '/tmp' } }), configError(/"job" has an unknown field "cwd"/));
    assert.throws(() => checkExecAllowlist({ job: 42 }), configError(/"job" must be an absolute path or an object/));
  });

  it('refuses a PATH with a relative or empty directory', () => {
    assert.throws(() => createExecExecutor({ allowlist: { a: '/bin/true' }, path: '/usr/bin::/bin', maxOutputBytes: 1, killGraceMs: 1 }), configError(/ki\.execPath/));
    assert.throws(() => createExecExecutor({ allowlist: { a: '/bin/true' }, path: '.:/usr/bin', maxOutputBytes: 1, killGraceMs: 1 }), configError(/ki\.execPath/));
  });
});

describe('exec user', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nanki-exec:x:65533:65533::/:/usr/sbin/nologin\n';
  const system = (uid: number, caps: bigint | undefined): ExecUserSystem => ({ passwd: () => passwd, uid: () => uid, effectiveCapabilities: () => caps });
  const ALL = 0x1ffffffffffn;

  it('is the Ki\'s own user when empty', () => {
    assert.equal(resolveExecUser('', system(0, ALL)), undefined);
  });

  it('resolves a name from /etc/passwd and uid[:gid], the gid defaulting to the uid', () => {
    assert.deepEqual(resolveExecUser('anki-exec', system(0, ALL)), { uid: 65533, gid: 65533 });
    assert.deepEqual(resolveExecUser('65533', system(0, ALL)), { uid: 65533, gid: 65533 });
    assert.deepEqual(resolveExecUser('1001:2002', system(0, ALL)), { uid: 1001, gid: 2002 });
  });

  it('refuses unknown names, malformed values and root', () => {
    assert.throws(() => resolveExecUser('ghost', system(0, ALL)), configError(/ki\.execUser \(KI_EXEC_USER\): no user "ghost"/));
    assert.throws(() => resolveExecUser('1:2:3', system(0, ALL)), configError(/neither a user name nor uid\[:gid\]/));
    assert.throws(() => resolveExecUser('root', system(0, ALL)), configError(/must not run as root/));
    assert.throws(() => resolveExecUser('1000:0', system(0, ALL)), configError(/must not run as root/));
  });

  it('refuses to start a Ki that cannot switch to the user or kill its commands', () => {
    const user = { uid: 65533, gid: 65533 };
    assert.doesNotThrow(() => checkCanRunAs(user, system(0, ALL)));
    // A non-root Ki granted exactly SETUID, SETGID and KILL.
    assert.doesNotThrow(() => checkCanRunAs(user, system(1000, (1n << 5n) | (1n << 6n) | (1n << 7n))));
    assert.throws(() => checkCanRunAs(user, system(1000, 0n)), configError(/cannot run commands as another user: run it as root, or with the capabilities SETUID, SETGID and KILL/));
    // Root with every capability dropped cannot either.
    assert.throws(() => checkCanRunAs(user, system(0, 0n)), ConfigError);
    assert.throws(() => checkCanRunAs(user, system(1000, undefined)), ConfigError);
    assert.doesNotThrow(() => checkCanRunAs(user, system(0, undefined)));
  });
});
