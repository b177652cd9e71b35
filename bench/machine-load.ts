import { readFileSync } from 'node:fs';
import os from 'node:os';

/** How busy the whole machine was during a phase: the context every figure of a shared machine needs. */
export interface MachineUsage {
  /** CPU time used by all processes over wall time; 100 % = one core, so 200 % is a saturated 2-core machine. */
  busyPct: number;
  cores: number;
  /** 1-minute load average at the end of the phase. */
  loadAvg1: number;
  /** Share of time some runnable task waited for a CPU (PSI `some avg10`, %), at the end; null without PSI. */
  cpuPressurePct: number | null;
}

function cpuTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  const total = v.slice(0, 8).reduce((s, x) => s + x, 0); // without guest time, already counted in user
  return { busy: total - idle, total };
}

function cpuPressure(): number | null {
  try {
    const m = /some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Reads /proc/stat at start and stop; the difference is what the whole machine did meanwhile. */
export class MachineLoad {
  #start = cpuTicks();

  start(): void {
    this.#start = cpuTicks();
  }

  stop(): MachineUsage {
    const end = cpuTicks();
    const cores = os.cpus().length;
    const total = end.total - this.#start.total;
    return {
      busyPct: total > 0 ? ((end.busy - this.#start.busy) / total) * 100 * cores : 0,
      cores,
      loadAvg1: os.loadavg()[0] ?? 0,
      cpuPressurePct: cpuPressure(),
    };
  }
}
