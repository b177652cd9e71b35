import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { derive } from './key-ring';
import type { NodeRole } from './permissions';
import { isPopJwk, type PopJwk } from './pop-key';

/** Claims of a node token: who sent a message and in which role. */
export interface NodeClaims {
  sub: string;
  role: NodeRole;
  group?: string;
  /** Issued tokens: the process instance the principal admitted. */
  inst?: string;
  exp: number;
  /** Issued tokens: the public key whose holder may send with this token (`cnf.jwk`, RFC 7800). */
  cnf?: PopJwk;
  /** `cnf` imported once by the verifier and cached with the claims: one verify per message, no import. */
  popKey?: KeyObject;
}

/** What a node signs or asks to be signed for itself. */
export interface NodeTokenRequest {
  sub: string;
  role: NodeRole;
  group?: string;
  inst?: string;
  /** Issued mode: the proof-of-possession key the token confirms. */
  cnf?: PopJwk;
}

/** A public key offered inside a message (the join reply), named by its thumbprint. */
export interface OfferedKey {
  kid: string;
  pem: string;
}

/** Verifies node tokens; both modes keep this contract so the envelope does not care which runs. */
export interface NodeTokenVerifier {
  /**
   * Returns the claims or throws. `offered` keys are considered only by a verifier that learns its
   * keys from join replies and does not know the token's key yet.
   */
  verify(token: string, nowSec?: number, offered?: readonly OfferedKey[]): NodeClaims;
}

/** Signs node tokens (shared mode: every node; issued mode: principals only). */
export interface NodeTokenSigner {
  sign(claims: NodeTokenRequest, ttlSec?: number): string;
}

/** Where a node's current token comes from when it seals a message. */
export interface NodeTokenSource {
  get(nowMs?: number): string;
}

export const NODE_TOKEN_AUDIENCE = 'anki-node';
const NODE_ROLES: readonly string[] = ['principal', 'an', 'ki', 'standalone'];

/** The claims of a verified token, or an error when it lacks what a node token must carry. */
export function nodeClaimsOf(decoded: unknown): NodeClaims {
  if (!decoded || typeof decoded !== 'object') throw new Error('node token lacks sub, exp or a node role');
  const d = decoded as Record<string, unknown>;
  if (typeof d['sub'] !== 'string' || typeof d['exp'] !== 'number' || !NODE_ROLES.includes(String(d['role']))) {
    throw new Error('node token lacks sub, exp or a node role');
  }
  const jwk = (d['cnf'] as { jwk?: unknown } | undefined)?.jwk;
  return {
    sub: d['sub'], role: d['role'] as NodeRole, exp: d['exp'],
    ...(d['group'] ? { group: String(d['group']) } : {}), ...(typeof d['inst'] === 'string' ? { inst: d['inst'] } : {}),
    ...(isPopJwk(jwk) ? { cnf: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } } : {}),
  };
}

/**
 * Signs and verifies node tokens (HS256 with a key derived from the JWT secret for this purpose
 * only, so a client token can never pass as a node token). Verified tokens are cached until they
 * expire: a node sends the same token thousands of times a second.
 */
export class NodeTokenAuthority implements NodeTokenVerifier, NodeTokenSigner {
  readonly #key: KeyObject;
  readonly #cache = new Map<string, NodeClaims>();
  constructor(jwtSecret: string, private readonly options: { ttlSec: number; clockToleranceSec: number; maxCached?: number }) {
    this.#key = createSecretKey(derive(jwtSecret, 'anki/node-token/hs256'));
  }

  sign(claims: NodeTokenRequest, ttlSec = this.options.ttlSec): string {
    return jwt.sign({ role: claims.role, ...(claims.group ? { group: claims.group } : {}) }, this.#key, {
      algorithm: 'HS256', subject: claims.sub, audience: NODE_TOKEN_AUDIENCE, expiresIn: ttlSec,
    });
  }

  /** Returns the claims or throws (bad signature, expired, wrong audience, unknown role). */
  verify(token: string, nowSec = Math.floor(Date.now() / 1000)): NodeClaims {
    const cached = this.#cache.get(token);
    if (cached) {
      if (cached.exp + this.options.clockToleranceSec > nowSec) return cached;
      this.#cache.delete(token);
    }
    const decoded = jwt.verify(token, this.#key, {
      algorithms: ['HS256'], audience: NODE_TOKEN_AUDIENCE, clockTolerance: this.options.clockToleranceSec, clockTimestamp: nowSec,
    });
    const claims = nodeClaimsOf(decoded);
    if (this.#cache.size >= (this.options.maxCached ?? 10_000)) this.#cache.clear();
    this.#cache.set(token, claims);
    return claims;
  }
}

/** Keeps the token of a node that signs its own fresh: a new one is signed at half its lifetime. */
export class OwnToken implements NodeTokenSource {
  #token = '';
  #renewAtMs = 0;
  constructor(private readonly authority: NodeTokenSigner, private readonly claims: NodeTokenRequest, private readonly ttlSec: number) {}
  get(nowMs = Date.now()): string {
    if (nowMs >= this.#renewAtMs) {
      this.#token = this.authority.sign(this.claims, this.ttlSec);
      this.#renewAtMs = nowMs + (this.ttlSec * 1000) / 2;
    }
    return this.#token;
  }
}
