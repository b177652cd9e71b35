/**
 * Whether a broker connection that failed at start-up may succeed later: the broker is not
 * reachable (refused, unresolvable, timed out) or dropped the socket while starting. A refused
 * login (ACCESS_REFUSED) or a missing vhost (NOT_ALLOWED) is not: waiting would only hide it.
 */
export function isBrokerUnreachable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (/ACCESS_REFUSED|NOT_ALLOWED|PRECONDITION_FAILED/.test(text)) return false;
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return true;
  return /socket closed|handshake|timeout|timed out|connect/i.test(text);
}
