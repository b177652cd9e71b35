import type { Logger } from '../observability';
import type { ClientTokenVerifier } from '../security';

/** How the dashboard's live feed behaves; every field but the verifier has a default. */
export interface LiveFeedOptions {
  verifier: ClientTokenVerifier;
  log?: Logger;
  /** @defaultValue `'/events'` */
  path?: string;
  /** Least time between two `nodes` snapshots. @defaultValue 1000 */
  nodesIntervalMs?: number;
  /** An unchanged snapshot (only `lastSeen` moved) is sent again after this long. @defaultValue 10000 */
  nodesMaxQuietMs?: number;
  /** Comment lines that keep proxies and idle timeouts from closing a quiet stream. @defaultValue 15000 */
  heartbeatMs?: number;
  /** Events held for one client whose socket is not taking writes. @defaultValue 256 */
  maxQueuedEvents?: number;
  /** Bytes held for one such client. @defaultValue 1 MiB */
  maxQueuedBytes?: number;
  /** Open streams at once; more are answered 503. @defaultValue 500 */
  maxClients?: number;
  /** The `retry:` a browser waits before reconnecting. @defaultValue 3000 */
  retryMs?: number;
  /** How long a ticket of `POST <path>/ticket` waits for its one use. @defaultValue 30000 */
  ticketTtlMs?: number;
  now?: () => number;
}

/** The options with every default applied. */
export type ResolvedOptions = Required<Omit<LiveFeedOptions, 'log' | 'ticketTtlMs'>> & { log: Logger | undefined };

/** Applies the defaults, once. */
export function resolveLiveFeedOptions(o: LiveFeedOptions): ResolvedOptions {
  return {
    verifier: o.verifier, log: o.log, path: o.path ?? '/events', nodesIntervalMs: o.nodesIntervalMs ?? 1000, nodesMaxQuietMs: o.nodesMaxQuietMs ?? 10_000,
    heartbeatMs: o.heartbeatMs ?? 15_000, maxQueuedEvents: o.maxQueuedEvents ?? 256, maxQueuedBytes: o.maxQueuedBytes ?? 1024 * 1024,
    maxClients: o.maxClients ?? 500, retryMs: o.retryMs ?? 3000, now: o.now ?? Date.now,
  };
}
