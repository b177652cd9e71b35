import type Koa from 'koa';
import { type ClientTokenVerifier, InvalidTokenError, rightsOf, type Caller, type ClientRights } from '../security';
import { unauthorized } from './problem';

export interface AuthState {
  caller: Caller;
  rights: ClientRights;
}

/** Requires `Authorization: Bearer <JWT>` and puts the caller and its rights on ctx.state. */
export function authMiddleware(verifier: ClientTokenVerifier): Koa.Middleware {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized('missing bearer token');
    let caller: Caller;
    try {
      caller = verifier.verify(match[1]!);
    } catch (err) {
      throw unauthorized(err instanceof InvalidTokenError ? err.message : 'invalid token');
    }
    (ctx.state as AuthState).caller = caller;
    (ctx.state as AuthState).rights = rightsOf(caller.roles);
    await next();
  };
}
