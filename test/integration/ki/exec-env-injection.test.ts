import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExecExecutor } from '../../../src/ki/executors/exec';
import { fakeContext } from '../../fixtures/ki/execution-context';

const HARNESS = join(__dirname, '../../fixtures/ki/exec-harness.ts');

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  result?: unknown;
  details?: unknown;
}

/**
 * Runs one exec task in a stand-in Ki process whose initial environment holds `canary`, as a
 * real Ki's holds AES_KEYS and JWT_SECRET_KEY. Returns the outcome and everything the task could
 * have sent back (its result or its error, with stdout and stderr).
 */
function runInKi(canary: string, options: Record<string, unknown>, payload: unknown): { outcome: Outcome; returned: string } {
  const out = spawnSync(process.execPath, ['--import', 'tsx', HARNESS, JSON.stringify({ options: { maxOutputBytes: 65536, killGraceMs: 200, ...options }, payload })], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ANKI_TEST_SECRET_CANARY: canary },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const line = out.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `the stand-in Ki printed no outcome: ${out.stdout} ${out.stderr}`);
  return { outcome: JSON.parse(line) as Outcome, returned: line };
}

function which(program: string): string | undefined {
  const out = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

/** The real python3 binary: a pyenv shim is a script that needs the environment the Ki withholds. */
function python3(): string | undefined {
  if (!which('python3')) return undefined;
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * An interpreter that honours a variable runs code of the task's choosing inside an allowlisted
 * program. Each case: an allowlist that lets the task pass no environment (a bare path), and a
 * payload whose variable would make the program print the Ki's environment to stderr.
 */
describe('exec refuses environment variables that make an allowed program run a task\'s code', function () {
  this.timeout(60_000);
  let dir: string;
  let canary: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'anki-inject-'));
    canary = `canary-${randomBytes(12).toString('hex')}`;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The task must fail with BAD_PAYLOAD, and nothing it returns may hold the canary. */
  function assertRefusedWithoutLeak({ outcome, returned }: { outcome: Outcome; returned: string }, variable: string): void {
    assert.ok(!returned.includes(canary), `the Ki's secret leaked into the task's output: ${returned.slice(0, 300)}`);
    assert.equal(outcome.ok, false, `the task ran: ${returned.slice(0, 300)}`);
    assert.equal(outcome.code, 'BAD_PAYLOAD', outcome.message);
    assert.match(outcome.message ?? '', new RegExp(variable));
  }

  it('bash: BASH_ENV', () => {
    const script = join(dir, 'job.sh');
    writeFileSync(script, '#!/bin/bash\necho job\n');
    chmodSync(script, 0o755);
    const outcome = runInKi(canary, { allowlist: { job: script } }, { command: 'job', env: { BASH_ENV: '$(tr \'\\0\' \'\\n\' </proc/$PPID/environ >&2)' } });
    assertRefusedWithoutLeak(outcome, 'BASH_ENV');
  });

  it('node: NODE_OPTIONS=--require', () => {
    const evil = join(dir, 'evil.js');
    writeFileSync(evil, "process.stderr.write(require('fs').readFileSync('/proc/' + process.ppid + '/environ', 'utf8'));\n");
    const outcome = runInKi(canary, { allowlist: { job: process.execPath } }, { command: 'job', args: ['-e', 'console.log("job")'], env: { NODE_OPTIONS: `--require ${evil}` } });
    assertRefusedWithoutLeak(outcome, 'NODE_OPTIONS');
  });

  it('python: PYTHONPATH with a sitecustomize module', function () {
    const python = python3();
    if (!python) this.skip();
    writeFileSync(join(dir, 'sitecustomize.py'), "import os, sys\nsys.stderr.write(open('/proc/%d/environ' % os.getppid()).read())\n");
    const outcome = runInKi(canary, { allowlist: { job: python } }, { command: 'job', args: ['-c', 'print("job")'], env: { PYTHONPATH: dir } });
    assertRefusedWithoutLeak(outcome, 'PYTHONPATH');
  });

  it('perl: PERL5OPT=-M', function () {
    const perl = which('perl');
    if (!perl) this.skip();
    writeFileSync(join(dir, 'Evil.pm'), "package Evil;\nopen(my $f, '<', '/proc/' . getppid() . '/environ'); local $/; print STDERR <$f>;\n1;\n");
    const outcome = runInKi(canary, { allowlist: { job: perl } }, { command: 'job', args: ['-e', 'print "job\\n"'], env: { PERL5OPT: `-I${dir} -MEvil` } });
    assertRefusedWithoutLeak(outcome, 'PERL5OPT');
  });

  it('passes a variable its allowlist entry names, and nothing of the Ki', () => {
    const { outcome, returned } = runInKi(canary, { allowlist: { env: { path: '/usr/bin/env', env: ['MODEL'] } } }, { command: 'env', env: { MODEL: 'llama' } });
    assert.equal(outcome.ok, true, returned);
    assert.match(returned, /MODEL=llama/);
    assert.ok(!returned.includes(canary));
  });
});

const isRoot = process.getuid?.() === 0;

/**
 * With `ki.execUser` a command runs as another user, which the kernel forbids to read the Ki's
 * /proc/<pid>/environ. Needs root (this machine's tests run as root; elsewhere they are skipped).
 */
describe('exec as another user (ki.execUser)', function () {
  this.timeout(60_000);
  const canary = `canary-${randomBytes(12).toString('hex')}`;
  const readKiEnvironment = { command: 'sh', args: ['-c', 'id -u; id -g; tr \'\\0\' \'\\n\' < /proc/$PPID/environ'] };
  before(function () {
    if (!isRoot || !existsSync('/proc/self/environ')) this.skip();
  });

  it('lets a command of the Ki\'s own user read the Ki\'s environment (what the user setting prevents)', () => {
    const { outcome, returned } = runInKi(canary, { allowlist: { sh: '/bin/sh' } }, readKiEnvironment);
    assert.equal(outcome.ok, true, returned);
    assert.ok(returned.includes(canary), 'control: the same user can read it');
  });

  it('runs the command as the configured user, who cannot read the Ki\'s environment', () => {
    const { outcome, returned } = runInKi(canary, { allowlist: { sh: '/bin/sh' }, user: 'nobody' }, readKiEnvironment);
    assert.ok(!returned.includes(canary), `the Ki's secret leaked: ${returned.slice(0, 300)}`);
    assert.equal(outcome.ok, false, 'reading the environment fails');
    const details = outcome.details as { stdout: string; stderr: string };
    const nobody = execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim();
    assert.equal(details.stdout.split('\n')[0], nobody, 'the command ran as nobody');
    assert.notEqual(details.stdout.split('\n')[1], '0', 'not in the root group');
    assert.match(details.stderr, /Permission denied/);
  });

  it('still ends the process group of a command running as another user on abort', async () => {
    const exec = createExecExecutor({ allowlist: { sh: '/bin/sh' }, user: 'nobody', maxOutputBytes: 4096, killGraceMs: 300 });
    const controller = new AbortController();
    const pending = exec({ command: 'sh', args: ['-c', 'trap "" TERM; sleep 30 & echo started; wait'] }, fakeContext({ signal: controller.signal }));
    const deadline = Date.now() + 10_000;
    const running = (): boolean => spawnSync('pgrep', ['-u', 'nobody', '-f', 'sleep 30'], { encoding: 'utf8' }).status === 0;
    while (!running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(running(), 'the command runs as nobody');
    controller.abort(new Error('cancelled by operator'));
    await assert.rejects(pending, (err: unknown) => (err as { code?: string }).code === 'ABORTED');
    assert.equal(running(), false, 'nothing of its group is left');
  });
});
