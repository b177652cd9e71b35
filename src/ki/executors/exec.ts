import { spawn, type ChildProcess } from 'node:child_process';
import { isAbsolute } from 'node:path';
import type { GpuDevice } from '../gpu';
import { abortedError, abortReasonText } from './aborted';
import { LineSplitter } from './line-splitter';
import { BoundedOutput } from './bounded-output';
import { checkExecAllowlist, type ExecCommand } from './exec-allowlist';
import { checkPayloadAgainst, parseExecPayload, type ExecPayload } from './exec-payload';
import { checkCanRunAs, resolveExecUser, type ExecIdentity } from './exec-user';
import { ConfigError } from '../../errors';
import { processGroupAlive, signalProcessGroup, terminateProcessGroup } from './process-group';
import { TaskExecutionError, type ExecutionContext, type Executor } from './types';

/** Options of {@link createExecExecutor}, from `ki.execAllowlist`, `ki.execPath`, `ki.execUser`, `ki.maxOutputBytes`, `ki.killGraceMs`. */
export interface ExecExecutorOptions {
  /**
   * Name -> `ExecAllowlistEntry` (an absolute path, or `{ path, env?, args?, maxArgs? }`):
   * the only commands a task may run, and the only environment variables it may pass to each.
   */
  allowlist: Readonly<Record<string, unknown>>;
  /** Bound of captured stdout and of captured stderr, each. */
  maxOutputBytes: number;
  /** Time between SIGTERM and SIGKILL of the process group. */
  killGraceMs: number;
  /**
   * PATH the command runs with: set by the Ki, never inherited from its environment or the task.
   * @defaultValue {@link DEFAULT_EXEC_PATH}
   */
  path?: string;
  /**
   * User the command runs as: a name from /etc/passwd or `uid[:gid]`; empty: the Ki's own user.
   * A command running as another user cannot read the Ki's environment (/proc/<pid>/environ).
   * @defaultValue ''
   */
  user?: string;
}

/** PATH of an `exec` command unless `ki.execPath` says otherwise. */
export const DEFAULT_EXEC_PATH = '/usr/local/bin:/usr/bin:/bin';

/** Everything {@link createExecExecutor} resolved once at start-up. */
interface ResolvedExecOptions {
  maxOutputBytes: number;
  killGraceMs: number;
  path: string;
  user?: ExecIdentity;
}

/** What an `exec` task returns (and what `EXEC_EXIT` / `ABORTED` errors carry in `details`). */
export interface ExecResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when stdout or stderr went past `maxOutputBytes` and was cut. */
  truncated: boolean;
}

// errno codes after which the same spawn may well succeed a moment later or on another Ki.
const TRANSIENT_SPAWN_ERRORS = new Set(['EAGAIN', 'ENOMEM', 'EMFILE', 'ENFILE']);

/**
 * `CUDA_VISIBLE_DEVICES` for the task's GPUs. UUIDs rather than indices: CUDA numbers GPUs
 * fastest-first by default while nvidia-smi numbers them by PCI bus, so an index could point
 * a task at a GPU reserved for another.
 */
export function cudaVisibleDevices(gpus: readonly GpuDevice[]): string {
  return gpus.map((g) => (g.uuid !== '' ? g.uuid : String(g.index))).join(',');
}

function buildEnv(payload: ExecPayload, ctx: ExecutionContext, path: string): NodeJS.ProcessEnv {
  // Nothing of the Ki's own environment is inherited: it holds AMQP_URL, JWT and AES secrets.
  // CUDA_VISIBLE_DEVICES comes last so a payload cannot reach GPUs it was not given; an empty
  // value hides every GPU from a CPU task.
  return { PATH: path, ...payload.env, CUDA_VISIBLE_DEVICES: cudaVisibleDevices(ctx.gpus) };
}

function spawnFailed(command: string, err: unknown): TaskExecutionError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return new TaskExecutionError(`could not start command "${command}": ${(err as Error).message}`, {
    code: 'EXEC_SPAWN_FAILED',
    retryable: TRANSIENT_SPAWN_ERRORS.has(code),
    cause: err,
  });
}

function exitError(command: string, result: ExecResult): TaskExecutionError {
  const how = result.exitCode !== null ? `exited with code ${result.exitCode}` : `was killed by ${result.signal ?? 'a signal'}`;
  const hint = result.stderr.trim().split('\n')[0]?.slice(0, 200) ?? '';
  return new TaskExecutionError(`command "${command}" ${how}${hint ? `: ${hint}` : ''}`, { code: 'EXEC_EXIT', retryable: false, details: result });
}

function checkExecPath(path: string): string {
  // A relative or empty entry ('' means the working directory) would let a file there shadow a program.
  if (path.split(':').some((dir) => !isAbsolute(dir))) throw new ConfigError(`ki.execPath (KI_EXEC_PATH) "${path}" must be a list of absolute directories separated by ':'`);
  return path;
}

function run(file: string, payload: ExecPayload, ctx: ExecutionContext, options: ResolvedExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      // detached: the command leads its own process group, so a cancel reaches its children too.
      // uid/gid: root (or CAP_SETUID/SETGID) starts it as the exec user; libuv drops supplementary groups.
      const identity = options.user ? { uid: options.user.uid, gid: options.user.gid } : {};
      child = spawn(file, payload.args ?? [], { env: buildEnv(payload, ctx, options.path), shell: false, detached: true, stdio: 'pipe', windowsHide: true, ...identity });
    } catch (err) {
      reject(spawnFailed(payload.command, err));
      return;
    }
    const stdout = new BoundedOutput(options.maxOutputBytes);
    const stderr = new BoundedOutput(options.maxOutputBytes);
    // Streamed to clients line by line as the command prints; the result keeps the whole stdout.
    const lines = new LineSplitter((line) => ctx.emit(line));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      lines.push(chunk);
    });
    child.stdout?.on('end', () => lines.end());
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    // EPIPE when the command exits without reading its input: not a failure of the task.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(payload.stdin ?? '');

    let spawnError: Error | undefined;
    let exited = false;
    let closed = false;
    let abortedWhileRunning = false;
    let termination: Promise<unknown> | undefined;
    let leftovers: Promise<unknown> | undefined;
    const terminate = (): Promise<unknown> =>
      (termination ??= child.pid === undefined ? Promise.resolve() : terminateProcessGroup(child.pid, options.killGraceMs));

    const onAbort = (): void => {
      if (closed) return;
      if (!exited) abortedWhileRunning = true;
      ctx.log.info({ command: payload.command, pid: child.pid, reason: abortReasonText(ctx.signal.reason) }, 'exec aborted, terminating its process group');
      void terminate();
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    child.on('error', (err) => {
      spawnError ??= err;
    });
    child.on('exit', () => {
      exited = true;
      // Whatever the command left running (a forgotten `&`) would hold GPU memory and keep
      // the stdout pipe open, so the task would never finish: end the rest of its group.
      const pid = child.pid;
      if (pid !== undefined && signalProcessGroup(pid, 0)) {
        leftovers = processGroupAlive(pid).then((alive) => (alive ? terminate() : undefined));
      }
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      closed = true;
      // Settle only once nothing of the group runs: the slot (and its GPUs) is then truly free.
      void Promise.all([leftovers, termination]).then(() => {
        ctx.signal.removeEventListener('abort', onAbort);
        if (child.pid === undefined) {
          reject(spawnFailed(payload.command, spawnError ?? new Error('spawn failed')));
          return;
        }
        const result: ExecResult = { exitCode: code, signal, stdout: stdout.text(), stderr: stderr.text(), truncated: stdout.truncated || stderr.truncated };
        if (abortedWhileRunning) reject(abortedError(ctx.signal.reason, result));
        else if (code !== 0) reject(exitError(payload.command, result));
        else resolve(result);
      });
    });
  });
}

/**
 * The `exec` executor: runs a command from the allowlist, without a shell, as `user`, with a
 * minimal environment (the Ki's PATH, the variables the entry allows the task to set, and
 * `CUDA_VISIBLE_DEVICES` set to the task's GPUs). Resolves an {@link ExecResult} when it exits 0.
 *
 * Rejects with a {@link TaskExecutionError}: `BAD_PAYLOAD` (payload shape, an environment
 * variable the entry does not list, arguments the entry does not allow), `EXEC_NOT_ALLOWED`
 * (name not in the allowlist), `EXEC_SPAWN_FAILED`, `EXEC_EXIT` (non-zero exit or killed;
 * `details` is the result) or `ABORTED` (the task's signal fired: the process group got
 * SIGTERM, then SIGKILL after `killGraceMs`; the rejection comes only once it is gone).
 *
 * @throws ConfigError at creation for a bad allowlist entry (not an absolute path, an environment
 *   variable no task may set, a bad `args` pattern), a bad `path`, an unknown `user`, or a `user`
 *   this Ki lacks the privileges to run commands as.
 */
export function createExecExecutor(options: ExecExecutorOptions): Executor {
  const allowlist = checkExecAllowlist(options.allowlist);
  const user = resolveExecUser(options.user ?? '');
  if (user) checkCanRunAs(user);
  const resolved: ResolvedExecOptions = {
    maxOutputBytes: options.maxOutputBytes,
    killGraceMs: options.killGraceMs,
    path: checkExecPath(options.path ?? DEFAULT_EXEC_PATH),
    ...(user ? { user } : {}),
  };
  return async (rawPayload, ctx) => {
    const payload = parseExecPayload(rawPayload);
    const command: ExecCommand | undefined = Object.hasOwn(allowlist, payload.command) ? allowlist[payload.command] : undefined;
    if (command === undefined) {
      throw new TaskExecutionError(`command "${payload.command}" is not in ki.execAllowlist`, { code: 'EXEC_NOT_ALLOWED', retryable: false });
    }
    checkPayloadAgainst(command, payload);
    if (ctx.signal.aborted) throw abortedError(ctx.signal.reason);
    ctx.log.debug({ command: payload.command, file: command.path, args: payload.args?.length ?? 0, gpus: ctx.gpus.length, uid: user?.uid }, 'exec starting');
    // A workflow task's upstream results reach the command as JSON on its standard input,
    // unless the payload gives its own.
    const withInputs = ctx.inputs !== undefined && payload.stdin === undefined ? { ...payload, stdin: JSON.stringify(ctx.inputs) } : payload;
    return run(command.path, withInputs, ctx, resolved);
  };
}
