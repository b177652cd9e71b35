import type { Member, MemberStatus } from '../cluster';

/** Statuses of a principal that may be serving requests: a suspect one still may. */
const SERVING: ReadonlySet<MemberStatus> = new Set(['alive', 'suspect']);

/** The membership events and list the share needs. */
export interface PrincipalRoster {
  list(): Member[];
  on(event: 'change' | 'removed', listener: () => void): unknown;
}

/**
 * The part of the cluster-wide REST rate this principal grants each caller: `1 / N` for N
 * principals alive or suspect in its membership (itself included once it hears its own
 * heartbeat; at least 1). Each principal holding `rate / N` keeps the cluster at or under
 * `rate` with no shared state and no database round trip per request; the price is that a caller
 * whose traffic reaches only some principals gets less than the whole rate. The count is kept up
 * to date from membership events rather than recounted per request (the list holds every node).
 */
export function principalRateShare(roster: PrincipalRoster): () => number {
  let share = 1;
  const recount = () => {
    const serving = roster.list().filter((m) => (m.role === 'principal' || m.role === 'standalone') && SERVING.has(m.status)).length;
    share = 1 / Math.max(1, serving);
  };
  roster.on('change', recount);
  roster.on('removed', recount);
  recount();
  return () => share;
}
