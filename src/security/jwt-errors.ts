import jwt from 'jsonwebtoken';

/**
 * A fixed, caller-safe description of why a token library refused a token. The library's own
 * text (which names expected audiences and issuers, and changes between versions) never
 * reaches a 401 body.
 */
export function describeJwtError(err: unknown): string {
  if (err instanceof jwt.TokenExpiredError) return 'the token has expired';
  if (err instanceof jwt.NotBeforeError) return 'the token is not valid yet';
  const message = err instanceof Error ? err.message : '';
  // jsonwebtoken has no error codes; its messages for these cases have been stable since v5.
  if (message.startsWith('jwt audience invalid')) return 'the token\'s audience is not accepted';
  if (message.startsWith('jwt issuer invalid')) return 'the token\'s issuer is not accepted';
  if (message === 'invalid signature' || message === 'jwt signature is required') return 'the token\'s signature does not verify';
  if (message === 'invalid algorithm') return 'the token\'s algorithm is not accepted';
  return 'the token is malformed or not valid';
}
