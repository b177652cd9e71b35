import type Koa from 'koa';
import jwt from 'jsonwebtoken';
import { bearerTokenOf, callerOf, sendJson, forbidden, unauthorized } from '../http';
import { rightsOf, type ClientTokenVerifier } from '../security';
import type { StreamTickets, TicketGrant } from './stream-tickets';

/** The caller of a bearer token with when that token expires; 401 when it is missing or bad. */
async function grantOfToken(verifier: ClientTokenVerifier, token: string): Promise<TicketGrant> {
  const caller = await callerOf(verifier, token);
  const exp = (jwt.decode(token) as jwt.JwtPayload | null)?.exp;
  return { caller, tokenExpiresAtMs: typeof exp === 'number' ? exp * 1000 : undefined };
}

/** A caller who may watch neither tasks nor nodes has no use for a stream. */
function requireWatchRights(grant: TicketGrant): void {
  const rights = rightsOf(grant.caller.roles);
  if (rights.readTasks === 'none' && !rights.readNodes) throw forbidden('your role may not read tasks or nodes');
}

/**
 * `POST <path>/ticket` with `Authorization: Bearer <JWT>`: answers `{ ticket, expiresInSec }`, a
 * one-use ticket for `GET <path>?ticket=`.
 */
export async function issueStreamTicket(ctx: Koa.Context, verifier: ClientTokenVerifier, tickets: StreamTickets): Promise<void> {
  const token = bearerTokenOf(ctx);
  if (!token) throw unauthorized('missing bearer token');
  const grant = await grantOfToken(verifier, token);
  requireWatchRights(grant);
  sendJson(ctx, tickets.issue(grant));
}

/**
 * Who opens a stream: a `?ticket=` from {@link issueStreamTicket} (browsers), or an Authorization
 * header (other clients). A token in the URL is refused: URLs end up in proxy logs, browser
 * history and trace attributes, where a token stays usable for hours.
 */
export async function streamGrantOf(ctx: Koa.Context, verifier: ClientTokenVerifier, tickets: StreamTickets, path: string): Promise<TicketGrant> {
  if (ctx.query['token'] !== undefined) throw unauthorized(`a token in the URL is not accepted: POST ${path}/ticket with Authorization: Bearer, then GET ${path}?ticket=`);
  const ticket = ctx.query['ticket'];
  let grant: TicketGrant;
  if (ticket !== undefined) {
    // A repeated parameter is refused rather than one of them picked.
    const redeemed = typeof ticket === 'string' ? tickets.redeem(ticket) : undefined;
    if (!redeemed) throw unauthorized(`the ticket is unknown, used or expired; get a new one from POST ${path}/ticket`);
    grant = redeemed;
  } else {
    const token = bearerTokenOf(ctx);
    if (!token) throw unauthorized(`missing ticket: POST ${path}/ticket with Authorization: Bearer, then GET ${path}?ticket= (or send Authorization: Bearer)`);
    grant = await grantOfToken(verifier, token);
  }
  requireWatchRights(grant);
  return grant;
}
