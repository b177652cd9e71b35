import type { Logger } from '../observability';
import type { Membership } from './membership';

/** A full membership list is logged at most this often; every refusal is counted. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;

/**
 * Counts every heartbeat a full {@link Membership} refuses and logs them once per interval, with
 * how many were refused since the last line: a flood of invented ids must not flood the log too.
 */
export function reportRefusedMembers(membership: Membership, d: { log: Logger; counter: { inc(): void }; maxMembers: number; intervalMs?: number; now?: () => number }): void {
  const now = d.now ?? Date.now;
  const intervalMs = d.intervalMs ?? REFUSAL_LOG_INTERVAL_MS;
  let lastLogMs = -Infinity;
  let sinceLog = 0;
  membership.on('refused', (hb) => {
    d.counter.inc();
    sinceLog++;
    if (now() - lastLogMs < intervalMs) return;
    d.log.warn({ refused: sinceLog, latest: hb.id.slice(0, 128), role: hb.role, maxMembers: d.maxMembers }, 'membership list full: heartbeats of new members refused');
    lastLogMs = now();
    sinceLog = 0;
  });
}
