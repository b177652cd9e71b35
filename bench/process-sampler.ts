import { readdirSync, readFileSync } from 'node:fs';

/** A process to watch: a node of the cluster, or a group of processes (PostgreSQL backends, RabbitMQ). */
export interface WatchTarget {
  label: string;
  role: string;
  /** One pid, or a function that lists the current pids of a group (re-read at every sample). */
  pids: number | (() => number[]);
  /** RSS of a group is not meaningful (shared memory counted many times): CPU only. */
  cpuOnly?: boolean;
}

export interface TargetUsage {
  label: string;
  role: string;
  peakRssMb: number | null;
  avgCpuPct: number;
  /** CPU time used during the sampling window, ms. */
  cpuMs: number;
  samples: number;
}

/** Clock ticks per second of /proc/<pid>/stat; 100 on every Linux this runs on. */
const CLK_TCK = 100;

interface ProcSample {
  rssKb: number;
  ticks: number;
}

/** VmRSS and utime+stime of one process, or undefined when it is gone. */
export function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return { rssKb: m ? Number(m[1]) : 0, ticks };
  } catch {
    return undefined;
  }
}

/** Pids whose command name (/proc/<pid>/comm) is one of `names`. */
export function pidsByName(names: readonly string[]): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) out.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

interface TargetState {
  target: WatchTarget;
  firstTicks: Map<number, number>;
  lastTicks: Map<number, number>;
  peakRssKb: number;
  samples: number;
}

/**
 * Samples RSS and CPU time of the watched processes every `intervalMs` between start() and stop().
 * CPU % is CPU time over wall time (100 % = one full core); a group sums its processes.
 */
export class ProcessSampler {
  readonly #states: TargetState[];
  #timer?: NodeJS.Timeout;
  #startedAtMs = 0;

  constructor(targets: readonly WatchTarget[], private readonly intervalMs = 500) {
    this.#states = targets.map((target) => ({ target, firstTicks: new Map(), lastTicks: new Map(), peakRssKb: 0, samples: 0 }));
  }

  start(): void {
    this.#startedAtMs = Date.now();
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.intervalMs);
  }

  stop(): TargetUsage[] {
    if (this.#timer) clearInterval(this.#timer);
    this.#sample();
    const wallSec = Math.max(0.001, (Date.now() - this.#startedAtMs) / 1000);
    return this.#states.map((s) => {
      let ticks = 0;
      for (const [pid, last] of s.lastTicks) ticks += last - (s.firstTicks.get(pid) ?? last);
      return {
        label: s.target.label,
        role: s.target.role,
        peakRssMb: s.target.cpuOnly ? null : s.peakRssKb / 1024,
        avgCpuPct: (ticks / CLK_TCK / wallSec) * 100,
        cpuMs: (ticks / CLK_TCK) * 1000,
        samples: s.samples,
      };
    });
  }

  #sample(): void {
    for (const s of this.#states) {
      const pids = typeof s.target.pids === 'number' ? [s.target.pids] : s.target.pids();
      let rssKb = 0;
      for (const pid of pids) {
        const p = readProc(pid);
        if (!p) continue;
        rssKb += p.rssKb;
        if (!s.firstTicks.has(pid)) s.firstTicks.set(pid, p.ticks);
        s.lastTicks.set(pid, p.ticks);
      }
      s.peakRssKb = Math.max(s.peakRssKb, rssKb);
      s.samples++;
    }
  }
}
