import { randomBytes } from 'node:crypto';
import type { Caller } from '../security';

/** What a ticket stands for: the caller it was issued to and when that caller's token expires. */
export interface TicketGrant {
  caller: Caller;
  /** The expiry of the token the ticket was bought with: the stream ends then. */
  tokenExpiresAtMs: number | undefined;
}

export interface StreamTicketOptions {
  /** How long a ticket may wait for its one use. @defaultValue 30000 */
  ttlMs?: number;
  /** Tickets held at once; issuing beyond drops the oldest. @defaultValue 10000 */
  maxTickets?: number;
  now?: () => number;
}

/**
 * One-use, short-lived tickets that open the dashboard's event stream. EventSource cannot send an
 * Authorization header, so the stream is opened with a URL; a bearer token in that URL would end
 * up in proxy logs, browser history and trace attributes, where it stays valid for hours. A ticket
 * there is random, dies after one use or `ttlMs`, and carries exactly the rights of the token that
 * bought it.
 */
export class StreamTickets {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  /** Insertion order is issue order, so the first entries are the oldest. */
  readonly #byTicket = new Map<string, TicketGrant & { expiresAtMs: number }>();

  constructor(options: StreamTicketOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#max = options.maxTickets ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Seconds a new ticket lives. */
  get ttlSec(): number {
    return Math.ceil(this.#ttlMs / 1000);
  }

  /** Tickets issued and neither used nor expired (expired ones are dropped lazily). */
  get size(): number {
    return this.#byTicket.size;
  }

  /** A new ticket for `grant`; never longer-lived than the token it was bought with. */
  issue(grant: TicketGrant): { ticket: string; expiresInSec: number } {
    const now = this.#now();
    this.#dropExpired(now);
    while (this.#byTicket.size >= this.#max) this.#byTicket.delete(this.#byTicket.keys().next().value as string);
    const ticket = randomBytes(32).toString('base64url');
    const expiresAtMs = Math.min(now + this.#ttlMs, grant.tokenExpiresAtMs ?? Number.POSITIVE_INFINITY);
    this.#byTicket.set(ticket, { ...grant, expiresAtMs });
    return { ticket, expiresInSec: Math.max(0, Math.ceil((expiresAtMs - now) / 1000)) };
  }

  /** The grant of a ticket, which is used up by this call; undefined when unknown, used or expired. */
  redeem(ticket: string): TicketGrant | undefined {
    const entry = this.#byTicket.get(ticket);
    if (!entry) return undefined;
    this.#byTicket.delete(ticket);
    if (entry.expiresAtMs <= this.#now()) return undefined;
    return { caller: entry.caller, tokenExpiresAtMs: entry.tokenExpiresAtMs };
  }

  #dropExpired(now: number): void {
    for (const [ticket, entry] of this.#byTicket) {
      // Not sorted by expiry (a token's own expiry can end a ticket early), but nearly: stop at the first live one.
      if (entry.expiresAtMs > now) break;
      this.#byTicket.delete(ticket);
    }
  }
}
