import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { derive } from './key-ring';
import type { NodeRole } from './permissions';

/** Claims of a node token: who sent a message and in which role. */
export interface NodeClaims {
  sub: string;
  role: NodeRole;
  group?: string;
  exp: number;
}

const NODE_TOKEN_AUDIENCE = 'anki-node';
const NODE_ROLES: readonly string[] = ['principal', 'an', 'ki', 'standalone'];

/**
 * Signs and verifies node tokens (HS256 with a key derived from the JWT secret for this purpose
 * only, so a client token can never pass as a node token). Verified tokens are cached until they
 * expire: a node sends the same token thousands of times a second.
 */
export class NodeTokenAuthority {
  readonly #key: KeyObject;
  readonly #cache = new Map<string, NodeClaims>();
  constructor(jwtSecret: string, private readonly options: { ttlSec: number; clockToleranceSec: number; maxCached?: number }) {
    this.#key = createSecretKey(derive(jwtSecret, 'anki/node-token/hs256'));
  }

  sign(claims: { sub: string; role: NodeRole; group?: string }, ttlSec = this.options.ttlSec): string {
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
    if (typeof decoded !== 'object' || typeof decoded.sub !== 'string' || typeof decoded.exp !== 'number' || !NODE_ROLES.includes(String(decoded['role']))) {
      throw new Error('node token lacks sub, exp or a node role');
    }
    const claims: NodeClaims = { sub: decoded.sub, role: decoded['role'] as NodeRole, exp: decoded.exp, ...(decoded['group'] ? { group: String(decoded['group']) } : {}) };
    if (this.#cache.size >= (this.options.maxCached ?? 10_000)) this.#cache.clear();
    this.#cache.set(token, claims);
    return claims;
  }
}

/** Keeps this node's own token fresh: a new one is signed at half its lifetime. */
export class OwnToken {
  #token = '';
  #renewAtMs = 0;
  constructor(private readonly authority: NodeTokenAuthority, private readonly claims: { sub: string; role: NodeRole; group?: string }, private readonly ttlSec: number) {}
  get(nowMs = Date.now()): string {
    if (nowMs >= this.#renewAtMs) {
      this.#token = this.authority.sign(this.claims, this.ttlSec);
      this.#renewAtMs = nowMs + (this.ttlSec * 1000) / 2;
    }
    return this.#token;
  }
}
