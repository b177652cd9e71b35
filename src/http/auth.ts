import type Koa from 'koa';
import { type ClientTokenVerifier, InvalidTokenError, rightsOf, type Caller, type ClientRights, JwksUnavailableError } from '../security';
import { unauthorized, unavailable } from './problem';

export interface AuthState {
  caller: Caller;
  rights: ClientRights;
}

/**
 * The caller a token stands for, or the problem to answer: 401 for a bad token, 503 when the
 * identity provider's key set cannot be fetched (not the caller's fault; try again).
 */
export async function callerOf(verifier: ClientTokenVerifier, token: string): Promise<Caller> {
  try {
    return await verifier.authenticate(token);
  } catch (err) {
    if (err instanceof JwksUnavailableError) throw unavailable('the identity provider\'s signing keys cannot be fetched', 5);
    throw unauthorized(err instanceof InvalidTokenError ? err.message : 'invalid token');
  }
}

/** The token of an `Authorization: Bearer <JWT>` header, if the request has one. */
export function bearerTokenOf(ctx: Koa.Context): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
}

/** Requires `Authorization: Bearer <JWT>` and puts the caller and its rights on ctx.state. */
export function authMiddleware(verifier: ClientTokenVerifier): Koa.Middleware {
  return async (ctx, next) => {
    const token = bearerTokenOf(ctx);
    if (!token) throw unauthorized('missing bearer token');
    const caller = await callerOf(verifier, token);
    (ctx.state as AuthState).caller = caller;
    (ctx.state as AuthState).rights = rightsOf(caller.roles);
    await next();
  };
}
