import jwt from 'jsonwebtoken';
import { NODE_TOKEN_AUDIENCE, nodeClaimsOf, type NodeClaims, type NodeTokenRequest, type NodeTokenSigner, type NodeTokenSource, type NodeTokenVerifier, type OfferedKey } from './node-tokens';
import { verifyKeyFromPem, type SigningKey, type VerifyKey } from './node-keys';
import { importPopKey } from './pop-key';

/**
 * Signs node tokens with the principal's private key (issued mode). The header names the key by
 * its thumbprint so verifiers pick the right key while a rotation announces two.
 */
export class IssuedTokenSigner implements NodeTokenSigner {
  constructor(private readonly key: SigningKey, private readonly ttlSec: number) {}

  get kid(): string {
    return this.key.kid;
  }

  sign(claims: NodeTokenRequest, ttlSec = this.ttlSec): string {
    const body = {
      role: claims.role, ...(claims.group ? { group: claims.group } : {}), ...(claims.inst ? { inst: claims.inst } : {}),
      ...(claims.cnf ? { cnf: { jwk: claims.cnf } } : {}),
    };
    return jwt.sign(body, this.key.privateKey, { algorithm: this.key.alg, keyid: this.key.kid, subject: claims.sub, audience: NODE_TOKEN_AUDIENCE, expiresIn: ttlSec });
  }
}

export interface IssuedVerifierOptions {
  /** Keys trusted from the start. */
  keys: readonly VerifyKey[];
  /** Pinned: the key set never changes, and keys offered in messages are ignored. */
  pinned: boolean;
  clockToleranceSec: number;
  maxCached?: number;
}

/**
 * Verifies issued node tokens: ES256/RS256 only, with the key the token's `kid` names and the
 * algorithm that key's type allows, so neither an HS token (signed with a public key as secret) nor
 * `none` passes. Verified tokens are cached until they expire, as in shared mode.
 */
export class IssuedTokenVerifier implements NodeTokenVerifier {
  #keys: ReadonlyMap<string, VerifyKey>;
  readonly #cache = new Map<string, NodeClaims>();
  constructor(private readonly o: IssuedVerifierOptions) {
    this.#keys = new Map(o.keys.map((k) => [k.kid, k]));
  }

  get kids(): string[] {
    return [...this.#keys.keys()];
  }

  get pinned(): boolean {
    return this.o.pinned;
  }

  /**
   * Replaces the key set with the one a join reply announced (its proof already checked). A pinned
   * verifier keeps its keys. Cached tokens are dropped: a key taken out of the set must stop working.
   */
  adopt(keys: readonly VerifyKey[]): boolean {
    if (this.o.pinned || keys.length === 0) return false;
    const same = keys.length === this.#keys.size && keys.every((k) => this.#keys.has(k.kid));
    if (same) return false;
    this.#keys = new Map(keys.map((k) => [k.kid, k]));
    this.#cache.clear();
    return true;
  }

  verify(token: string, nowSec = Math.floor(Date.now() / 1000), offered?: readonly OfferedKey[]): NodeClaims {
    const cached = this.#cache.get(token);
    if (cached) {
      if (cached.exp + this.o.clockToleranceSec > nowSec) return cached;
      this.#cache.delete(token);
    }
    const header = jwt.decode(token, { complete: true })?.header;
    if (!header || typeof header.kid !== 'string') throw new Error('node token names no key (kid)');
    let key = this.#keys.get(header.kid);
    const known = key !== undefined;
    if (!key && !this.o.pinned && offered) key = offeredKey(offered, header.kid);
    if (!key) throw new Error(`node token signed by unknown key ${header.kid.slice(0, 64)}`);
    if (header.alg !== key.alg) throw new Error(`node token algorithm ${String(header.alg).slice(0, 16)} does not match its key (${key.alg})`);
    const decoded = jwt.verify(token, key.key, {
      algorithms: [key.alg], audience: NODE_TOKEN_AUDIENCE, clockTolerance: this.o.clockToleranceSec, clockTimestamp: nowSec,
    });
    const claims = withPopKey(nodeClaimsOf(decoded));
    // A token verified with a key offered in the same message proves nothing on its own (the
    // reply's join proof does): never remember it as verified.
    if (known) {
      if (this.#cache.size >= (this.o.maxCached ?? 10_000)) this.#cache.clear();
      this.#cache.set(token, claims);
    }
    return claims;
  }
}

/** Imports the token's confirmation key once, so that the envelope's check per message is one verify. */
function withPopKey(claims: NodeClaims): NodeClaims {
  if (!claims.cnf) return claims;
  try {
    return { ...claims, popKey: importPopKey(claims.cnf) };
  } catch {
    throw new Error('node token confirms a key (cnf) that is not a P-256 public key');
  }
}

/** The offered key named `kid`, if its PEM really has that thumbprint. */
function offeredKey(offered: readonly OfferedKey[], kid: string): VerifyKey | undefined {
  const entry = offered.find((k) => k.kid === kid);
  if (!entry) return undefined;
  try {
    const key = verifyKeyFromPem(entry.pem, 'offered key');
    return key.kid === kid ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The token the leader issued to this node. Empty until the first join reply: a node seals
 * nothing but its join before that, and anything else it tried to send would fail here.
 */
export class IssuedToken implements NodeTokenSource {
  #token = '';
  #expiresAtMs = 0;

  get(): string {
    if (!this.#token) throw new Error('this node has not been admitted yet: no node token');
    return this.#token;
  }

  set(token: string, expiresAtMs: number): void {
    this.#token = token;
    this.#expiresAtMs = expiresAtMs;
  }

  get expiresAtMs(): number {
    return this.#expiresAtMs;
  }
}
