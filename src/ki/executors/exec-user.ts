import { readFileSync } from 'node:fs';
import { ConfigError } from '../../errors';

/** The user and group an `exec` command runs as. */
export interface ExecIdentity {
  readonly uid: number;
  readonly gid: number;
}

/** What {@link resolveExecUser} and {@link checkCanRunAs} read from the system; replaced in tests. */
export interface ExecUserSystem {
  /** Text of /etc/passwd. */
  passwd: () => string;
  /** This process's real user id. */
  uid: () => number;
  /** This process's effective capability mask (CapEff of /proc/self/status), or undefined without /proc. */
  effectiveCapabilities: () => bigint | undefined;
}

function readCapEff(): bigint | undefined {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
    return line === undefined ? undefined : BigInt(`0x${line.slice('CapEff:'.length).trim()}`);
  } catch {
    return undefined;
  }
}

/** The real system. */
export const SYSTEM: ExecUserSystem = {
  passwd: () => readFileSync('/etc/passwd', 'utf8'),
  uid: () => process.getuid?.() ?? -1,
  effectiveCapabilities: readCapEff,
};

const ID = /^\d{1,10}$/;

function lookUpUser(name: string, passwd: string): ExecIdentity | undefined {
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined && ID.test(uid) && ID.test(gid)) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/**
 * Resolves `ki.execUser`: empty means "same user as the Ki" (undefined); `uid[:gid]` is taken as
 * is (gid defaults to the uid, never to the Ki's own group); a name is looked up in /etc/passwd.
 * @throws {@link ConfigError} for an unknown name, a malformed value or user/group 0 (root would
 *   defeat the purpose: a command running as root can read the Ki's environment).
 */
export function resolveExecUser(spec: string, system: ExecUserSystem = SYSTEM): ExecIdentity | undefined {
  const text = spec.trim();
  if (text === '') return undefined;
  let identity: ExecIdentity | undefined;
  const numeric = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(text);
  if (numeric) {
    const uid = Number(numeric[1]);
    identity = { uid, gid: numeric[2] !== undefined ? Number(numeric[2]) : uid };
  } else if (/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(text)) {
    identity = lookUpUser(text, system.passwd());
    if (!identity) throw new ConfigError(`ki.execUser (KI_EXEC_USER): no user "${text}" in /etc/passwd`);
  } else {
    throw new ConfigError(`ki.execUser (KI_EXEC_USER): "${text}" is neither a user name nor uid[:gid]`);
  }
  if (identity.uid === 0 || identity.gid === 0) throw new ConfigError('ki.execUser (KI_EXEC_USER): commands must not run as root (uid or gid 0)');
  if (identity.uid > 0xfffffffe || identity.gid > 0xfffffffe) throw new ConfigError(`ki.execUser (KI_EXEC_USER): "${text}" is out of range`);
  return identity;
}

// Capability bits (linux/capability.h): KILL to end a group of another user, SETGID and SETUID to start it.
const CAP_KILL = 5n;
const CAP_SETGID = 6n;
const CAP_SETUID = 7n;
const NEEDED = [CAP_KILL, CAP_SETGID, CAP_SETUID];

/**
 * Refuses to start a Ki that could not start (setuid/setgid) or stop (kill) commands as another
 * user: that would otherwise only show when the first task fails.
 * @throws {@link ConfigError} naming `ki.execUser` and what is missing.
 */
export function checkCanRunAs(identity: ExecIdentity, system: ExecUserSystem = SYSTEM): void {
  const caps = system.effectiveCapabilities();
  const able = caps === undefined ? system.uid() === 0 : NEEDED.every((bit) => (caps >> bit) & 1n);
  if (!able) {
    throw new ConfigError(
      `ki.execUser (KI_EXEC_USER) is ${identity.uid}:${identity.gid}, but this Ki (uid ${system.uid()}) cannot run commands as another user: ` +
        'run it as root, or with the capabilities SETUID, SETGID and KILL',
    );
  }
}
