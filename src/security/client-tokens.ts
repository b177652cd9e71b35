import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { JwksTokenError, verifyWithJwks, type JwksKeySource } from './jwks';
import { describeJwtError } from './jwt-errors';
import { CLIENT_ROLES, type ClientRole } from './permissions';
import { isWellFormed } from '../util';

/** Who is calling the REST API. */
export interface Caller {
  sub: string;
  roles: ClientRole[];
  /**
   * The tenant whose shares and caps the caller's tasks count against: the `tenant` claim, else
   * `sub` (the verifier always sets it; see {@link tenantOf}).
   */
  tenant?: string;
}

export interface ClientTokenOptions {
  secret: string;
  algorithms: string[];
  audience?: string;
  issuer?: string;
  clockToleranceSec: number;
  /** An identity provider's JWK set: tokens signed with an algorithm of `jwksAlgorithms` are checked against it. */
  jwks?: { source: JwksKeySource; algorithms: readonly string[] };
  /**
   * Whether HMAC (HS256/384/512) tokens signed with `secret` are accepted. Off, a principal with a
   * JWK set accepts only the identity provider's tokens, so a leaked `JWT_SECRET_KEY` mints none.
   * @defaultValue true
   */
  hmac?: boolean;
}

/**
 * `CLIENT_HS256`: `on` and `off` say it; `auto` is on except in production with a JWK set, where
 * the identity provider is the one source of client tokens.
 */
export function resolveClientHs256(mode: 'auto' | 'on' | 'off', env: string, jwksUrl: string): boolean {
  if (mode !== 'auto') return mode === 'on';
  return !(env === 'production' && jwksUrl !== '');
}

/** Thrown for any token problem; the REST layer turns it into 401. */
export class InvalidTokenError extends Error {
  readonly code = 'INVALID_TOKEN';
}

const HMAC = ['HS256', 'HS384', 'HS512'];

/**
 * Verifies client tokens against an explicit algorithm allowlist. `none` is never accepted, and an
 * HMAC algorithm is refused when the configured key is a PEM public key (the HS/RS confusion attack).
 */
export class ClientTokenVerifier {
  readonly #algorithms: jwt.Algorithm[];
  /** Built once: given a string, jsonwebtoken re-parses the key on every call (~0.5 ms). Undefined: only the JWK set verifies. */
  readonly #key: KeyObject | undefined;
  /** Tokens already verified, until they expire: a client sends the same token many times. */
  readonly #cache = new Map<string, { caller: Caller; expMs: number }>();
  constructor(private readonly options: ClientTokenOptions) {
    const isPem = options.secret.includes('-----BEGIN');
    const hmac = options.hmac ?? true;
    this.#algorithms = options.algorithms.filter((a) => a !== 'none' && (isPem ? !HMAC.includes(a) : hmac && HMAC.includes(a))) as jwt.Algorithm[];
    if (this.#algorithms.length === 0 && !options.jwks) throw new Error(hmac || isPem ? 'no usable JWT algorithm for the configured key' : 'CLIENT_HS256 is off and no JWKS_URL is set: no client token could be verified');
    this.#key = this.#algorithms.length === 0 ? undefined : isPem ? createPublicKey(options.secret) : createSecretKey(Buffer.from(options.secret, 'utf8'));
  }

  /**
   * Verifies a token signed with the configured secret or public key (synchronous: the `token`
   * CLI's tokens and a static identity-provider key). Throws {@link InvalidTokenError}.
   */
  verify(token: string): Caller {
    const cached = this.#cached(token);
    if (cached) return cached;
    return this.#accept(token, this.#verifyLocal(token));
  }

  /**
   * Verifies any accepted token: one whose algorithm the JWK set serves goes to the set (fetched
   * and cached by the key source), every other one to {@link verify}. Throws
   * {@link InvalidTokenError}, or `JwksUnavailableError` when the set cannot be had (a 503).
   */
  async authenticate(token: string): Promise<Caller> {
    const cached = this.#cached(token);
    if (cached) return cached;
    const jwks = this.options.jwks;
    if (!jwks || !jwks.algorithms.includes(headerAlg(token))) return this.verify(token);
    let payload: jwt.JwtPayload;
    try {
      payload = await verifyWithJwks(token, jwks.source, {
        algorithms: jwks.algorithms, clockToleranceSec: this.options.clockToleranceSec,
        ...(this.options.audience ? { audience: this.options.audience } : {}), ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
      });
    } catch (err) {
      if (err instanceof JwksTokenError) throw new InvalidTokenError(`invalid token: ${err.message}`, { cause: err });
      throw err;
    }
    return this.#accept(token, payload);
  }

  #cached(token: string): Caller | undefined {
    const hit = this.#cache.get(token);
    return hit && hit.expMs > Date.now() ? hit.caller : undefined;
  }

  /**
   * The caller of a verified token, kept until the token expires (its `exp`, read once here). A
   * token without `exp` is refused: it would be good forever, and no rotation short of changing
   * the key could take it back.
   */
  #accept(token: string, decoded: string | jwt.JwtPayload): Caller {
    const exp = typeof decoded === 'object' ? decoded.exp : undefined;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new InvalidTokenError('invalid token: it has no exp (expiry) claim; client tokens must expire');
    const caller = this.#callerOf(decoded);
    if (this.#cache.size >= 10_000) this.#cache.clear();
    this.#cache.set(token, { caller, expMs: exp * 1000 });
    return caller;
  }

  #verifyLocal(token: string): string | jwt.JwtPayload {
    if (!this.#key) throw new InvalidTokenError('invalid token: this principal accepts only tokens of its identity provider (JWKS_URL)');
    try {
      return jwt.verify(token, this.#key, {
        algorithms: this.#algorithms,
        clockTolerance: this.options.clockToleranceSec,
        ...(this.options.audience ? { audience: this.options.audience } : {}),
        ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
      });
    } catch (err) {
      throw new InvalidTokenError(`invalid token: ${describeJwtError(err)}`, { cause: err });
    }
  }

  #callerOf(decoded: string | jwt.JwtPayload): Caller {
    if (typeof decoded !== 'object' || typeof decoded.sub !== 'string' || decoded.sub === '') throw new InvalidTokenError('invalid token: no subject');
    // The subject becomes the owner of tasks: it must be text the store can keep.
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (decoded.sub.length > 256 || /[\u0000-\u001f\u007f]/.test(decoded.sub) || !isWellFormed(decoded.sub)) throw new InvalidTokenError('invalid token: the subject holds control characters or unpaired surrogates, or is longer than 256');
    const raw: unknown[] = Array.isArray(decoded['roles']) ? decoded['roles'] : decoded['role'] !== undefined ? [decoded['role']] : [];
    const roles = raw.filter((r): r is ClientRole => CLIENT_ROLES.includes(r as ClientRole));
    if (roles.length === 0) throw new InvalidTokenError('invalid token: no known role (admin, operator, submitter, viewer)');
    return { sub: decoded.sub, roles, tenant: tenantClaimOf(decoded) ?? decoded.sub };
  }
}

/**
 * The verified `tenant` claim, when the token has one. It names a row of the tenants table and a
 * metric label, so it is held to the subject's rules; a claim of another type is refused, not ignored.
 */
function tenantClaimOf(decoded: jwt.JwtPayload): string | undefined {
  const t: unknown = decoded['tenant'];
  if (t === undefined) return undefined;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (typeof t !== 'string' || t === '' || t.length > 128 || /[\u0000-\u001f\u007f]/.test(t) || !isWellFormed(t)) throw new InvalidTokenError('invalid token: the tenant claim must be text of 1 to 128 characters without control characters');
  return t;
}

/** The caller's tenant: its verified `tenant` claim, else its subject. */
export function tenantOf(caller: Caller): string {
  return caller.tenant ?? caller.sub;
}

/** The `alg` of a token's header, or '' when it has none readable. */
function headerAlg(token: string): string {
  try {
    const alg = (jwt.decode(token, { complete: true }))?.header.alg;
    return typeof alg === 'string' ? alg : '';
  } catch {
    return '';
  }
}

/** Mints a client token (the `token` CLI and tests). */
export function mintClientToken(secret: string, claims: { sub: string; role: ClientRole | ClientRole[]; tenant?: string; ttlSec?: number; audience?: string; issuer?: string; algorithm?: jwt.Algorithm }): string {
  const roleClaim = Array.isArray(claims.role) ? { roles: claims.role } : { role: claims.role };
  return jwt.sign({ ...roleClaim, ...(claims.tenant !== undefined ? { tenant: claims.tenant } : {}) }, secret, {
    algorithm: claims.algorithm ?? 'HS256', subject: claims.sub, expiresIn: claims.ttlSec ?? 24 * 3600,
    ...(claims.audience ? { audience: claims.audience } : {}), ...(claims.issuer ? { issuer: claims.issuer } : {}),
  });
}
