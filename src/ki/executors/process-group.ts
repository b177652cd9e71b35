import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Sends `signal` to every process of the group led by `pid` (a child spawned with
 * `detached: true`). Returns false when the group no longer exists.
 */
export function signalProcessGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: a member changed its user id; it exists, and we cannot signal it.
    if ((err as NodeJS.ErrnoException).code === 'EPERM') return true;
    throw err;
  }
}

/** State and process group of one /proc entry, or undefined once it has vanished. */
async function procState(pid: string): Promise<{ state: string; pgrp: number } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: parse after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/**
 * Whether the group led by `pid` still has a member that has not exited. Zombies do not count:
 * an orphan is reparented to PID 1, and in a container PID 1 is often a process (node itself,
 * or a supervisor) that never reaps it, so waiting for zombies to vanish would always last
 * the whole grace period. Without /proc (not Linux), any member counts.
 */
export async function processGroupAlive(pid: number): Promise<boolean> {
  if (!signalProcessGroup(pid, 0)) return false;
  let entries: string[];
  try {
    entries = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return true;
  }
  const states = await Promise.all(entries.map(procState));
  return states.some((s) => s !== undefined && s.pgrp === pid && s.state !== 'Z' && s.state !== 'X');
}

/** How the termination of a process group ended. */
export type GroupTermination = 'exited' | 'killed';

/**
 * SIGTERM to the group, then SIGKILL to whatever is left after `graceMs`. Resolves once the
 * group is gone or SIGKILL was sent (it cannot be ignored). Polling is the only way to watch
 * grandchildren: they are not our children, so no exit event reaches us.
 */
export async function terminateProcessGroup(pid: number, graceMs: number, pollMs = 20): Promise<GroupTermination> {
  if (!signalProcessGroup(pid, 'SIGTERM')) return 'exited';
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await delay(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    if (!(await processGroupAlive(pid))) return 'exited';
  }
  return signalProcessGroup(pid, 'SIGKILL') ? 'killed' : 'exited';
}
