import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import type { NodeNetns } from './cluster';

const run = promisify(execFile);
const IPTABLES = process.env['TEST_IPTABLES'] ?? '/usr/sbin/iptables';
/** Namespaces of this helper are named `anki-<owner pid>-<n>`; one whose owner is gone is a leftover. */
const NS_PREFIX = 'anki-';
/** Host ends of the veth pairs: `ak<owner pid>h<n>` (at most 15 characters, the kernel's limit). */
const DEV_PATTERN = /^ak(\d+)h\d+$/;
/** Numbers namespaces across every lab of this process, so a name is never reused while an old one may linger. */
let created = 0;

async function sh(file: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(file, args, { timeout: 15_000 });
  return stdout;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Why network namespaces cannot be used here (not root, no CAP_NET_ADMIN, no `ip`), or undefined
 * when they can: a test that needs them skips with this reason instead of failing.
 */
export async function netnsUnavailable(): Promise<string | undefined> {
  const probe = `${NS_PREFIX}${process.pid}-probe`;
  try {
    await sh('ip', 'netns', 'add', probe);
    await sh('ip', 'netns', 'exec', probe, IPTABLES, '-S');
    return undefined;
  } catch (err) {
    return `network namespaces are not permitted here (${(err as Error).message.split('\n')[0]}): they need root (or CAP_NET_ADMIN and CAP_SYS_ADMIN), iproute2 and iptables`;
  } finally {
    await sh('ip', 'netns', 'del', probe).catch(() => undefined);
  }
}

/**
 * Removes the namespaces and veth devices of test runs that died without cleaning up: their owner
 * pid is gone. Node processes still running in such a namespace are killed first.
 */
async function removeLeftovers(): Promise<void> {
  const names = (await sh('ip', 'netns', 'list')).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(NS_PREFIX));
  for (const name of names) {
    const owner = Number(name.slice(NS_PREFIX.length).split('-')[0]);
    if (owner && processAlive(owner)) continue;
    const pids = (await sh('ip', 'netns', 'pids', name).catch(() => '')).split('\n').map(Number).filter((p) => p > 0);
    for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ } }
    await sh('ip', 'netns', 'del', name).catch(() => undefined);
  }
  const devs = (await sh('ip', '-o', 'link', 'show')).split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '');
  for (const dev of devs) {
    const owner = Number(DEV_PATTERN.exec(dev)?.[1]);
    if (owner && !processAlive(owner)) await sh('ip', 'link', 'del', dev).catch(() => undefined);
  }
}

/** One namespace: a host of its own, joined to this machine by a veth pair on a /30. */
export interface NetnsHost extends NodeNetns {
  /** The veth end on this machine's side. */
  readonly hostDev: string;
  /** The veth end inside the namespace. */
  readonly nsDev: string;
  /** This machine's address on the link: where the proxies to the broker and the database listen. */
  readonly hostAddress: string;
}

/**
 * Network namespaces for one test, each a separate "host" whose only way out is its veth link,
 * with the two ways to partition it: the link down (a clean cut: both ends see the carrier go) or
 * every packet dropped by iptables inside it (half-open: sockets stay open and hear nothing).
 * `destroy` removes them all; namespaces left by a crashed run are removed when the next opens.
 */
export class NetnsLab {
  readonly #hosts: NetnsHost[] = [];

  private constructor() {}

  static async open(): Promise<NetnsLab> {
    await removeLeftovers();
    return new NetnsLab();
  }

  /** A fresh namespace with its link up; its /30 is one no interface of this machine uses yet. */
  async add(): Promise<NetnsHost> {
    const n = ++created;
    const name = `${NS_PREFIX}${process.pid}-${n}`;
    const hostDev = `ak${process.pid}h${n}`;
    const nsDev = `ak${process.pid}n${n}`;
    const [hostAddress, address] = await this.#freeSubnet();
    const host: NetnsHost = { name, hostDev, nsDev, hostAddress, address };
    this.#hosts.push(host);
    await sh('ip', 'netns', 'add', name);
    await sh('ip', 'link', 'add', hostDev, 'type', 'veth', 'peer', 'name', nsDev);
    await sh('ip', 'link', 'set', nsDev, 'netns', name);
    await sh('ip', 'addr', 'add', `${hostAddress}/30`, 'dev', hostDev);
    await sh('ip', 'link', 'set', hostDev, 'up');
    await sh('ip', 'netns', 'exec', name, 'ip', 'addr', 'add', `${address}/30`, 'dev', nsDev);
    await sh('ip', 'netns', 'exec', name, 'ip', 'link', 'set', nsDev, 'up');
    await sh('ip', 'netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    return host;
  }

  /** A clean partition: the host end of the link goes down, the namespace loses its carrier. */
  async linkDown(h: NetnsHost): Promise<void> {
    await sh('ip', 'link', 'set', h.hostDev, 'down');
  }

  async linkUp(h: NetnsHost): Promise<void> {
    await sh('ip', 'link', 'set', h.hostDev, 'up');
    // The host end's address route comes back with the carrier; wait until it is usable.
    for (let i = 0; i < 50 && !(await sh('ip', '-o', 'link', 'show', h.hostDev)).includes('LOWER_UP'); i++) await new Promise((r) => setTimeout(r, 50));
  }

  /**
   * A half-open partition: inside the namespace, iptables drops every packet in and out of the
   * link. Sockets stay open on both sides, connects hang, and nothing tells anyone.
   */
  async dropAll(h: NetnsHost): Promise<void> {
    await sh('ip', 'netns', 'exec', h.name, IPTABLES, '-A', 'INPUT', '-i', h.nsDev, '-j', 'DROP');
    await sh('ip', 'netns', 'exec', h.name, IPTABLES, '-A', 'OUTPUT', '-o', h.nsDev, '-j', 'DROP');
  }

  /** Removes the drop rules of {@link dropAll}. */
  async allowAll(h: NetnsHost): Promise<void> {
    await sh('ip', 'netns', 'exec', h.name, IPTABLES, '-F');
  }

  /** Heals whichever partition `h` is under. */
  async heal(h: NetnsHost): Promise<void> {
    await this.allowAll(h);
    await this.linkUp(h);
  }

  /** Kills whatever still runs in the namespaces and removes them (their veth pairs go with them). */
  async destroy(): Promise<void> {
    for (const h of this.#hosts.splice(0)) {
      const pids = (await sh('ip', 'netns', 'pids', h.name).catch(() => '')).split('\n').map(Number).filter((p) => p > 0);
      for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ } }
      await sh('ip', 'netns', 'del', h.name).catch(() => undefined);
      await sh('ip', 'link', 'del', h.hostDev).catch(() => undefined);
    }
  }

  /** Two addresses of a 10.231.0.0/16 /30 that no interface here has. */
  async #freeSubnet(): Promise<[string, string]> {
    const used = await sh('ip', '-o', '-4', 'addr', 'show');
    for (;;) {
      const block = randomInt(0, 1 << 14);
      const third = block >> 6;
      const base = (block & 63) * 4;
      const pair: [string, string] = [`10.231.${third}.${base + 1}`, `10.231.${third}.${base + 2}`];
      if (!pair.some((a) => used.includes(` ${a}/`))) return pair;
    }
  }
}
