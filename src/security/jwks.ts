import jwt from 'jsonwebtoken';
import { describeJwtError } from './jwt-errors';
import { downloadJwkSet, globalJwksFetch, resolveJwksUrl, type JwksFetch } from './jwks-fetch';
import { isJwksAlgorithm, isKid, parseJwkSet, type JwksAlgorithm, type JwksKey } from './jwks-keys';
import { PlatformError } from '../errors';

/**
 * Client tokens signed by an identity provider that publishes its public keys as a JWK set
 * (RFC 7517), e.g. `https://idp.example/.well-known/jwks.json`.
 *
 * Only asymmetric algorithms are ever accepted with a JWK set: a symmetric (`oct`) key in a
 * published set would be a secret anyone can read, and accepting HS* would reopen the
 * algorithm-confusion attack (an HMAC computed over a public key). The key always comes from
 * the configured set, found by the token's `kid`; a key embedded in or pointed to by the token
 * header (`jwk`, `jku`, `x5u`, `x5c`) is ignored.
 *
 * This module keeps the fetched keys and verifies tokens with them; `jwks-keys.ts` decides which
 * keys of a set are usable and `jwks-fetch.ts` downloads the set within its limits.
 */

export { JWKS_ALGORITHMS, importJwk, jwksAlgorithms, type JwksAlgorithm, type JwksKey } from './jwks-keys';
export type { JwksFetch } from './jwks-fetch';

/** A token was refused (bad header, unknown key, signature, expiry, audience, issuer): a 401. */
export class JwksTokenError extends PlatformError {
  override readonly code = 'JWKS_TOKEN_INVALID';
}

/** The key set could not be fetched and no usable copy is cached: a 503, not the caller's fault. */
export class JwksUnavailableError extends PlatformError {
  override readonly code = 'JWKS_UNAVAILABLE';
  override readonly retryable = true;
}

/** Options of {@link JwksKeySource}; each default is applied once, when the source is built. */
export interface JwksKeySourceOptions {
  /** The JWK set URL (`JWKS_URL`). */
  url: string;
  /** Accept an http:// URL (development only: keys fetched in clear can be swapped on the way). @defaultValue false */
  allowHttp?: boolean;
  /** How long a fetched set is used before it is fetched again. @defaultValue 600000 (10 min) */
  cacheTtlMs?: number;
  /**
   * Least time between two fetches. An unknown `kid` triggers a fetch (the provider may have
   * rotated), but at most this often, so tokens with made-up kids cannot turn the principal
   * into a flood against the provider. @defaultValue 30000
   */
  minRefreshIntervalMs?: number;
  /** Deadline of one fetch. @defaultValue 5000 */
  timeoutMs?: number;
  /** Largest accepted response. @defaultValue 1048576 */
  maxBytes?: number;
  /** Keys beyond this many in one set are ignored. @defaultValue 100 */
  maxKeys?: number;
  /** @defaultValue globalThis.fetch */
  fetch?: JwksFetch;
  /** @defaultValue Date.now */
  now?: () => number;
  /** Told when a refresh fails while older keys stay in use, and about keys of the set that were skipped. */
  onWarning?: (message: string, err?: unknown) => void;
}

interface ResolvedJwksOptions {
  url: string;
  cacheTtlMs: number;
  minRefreshIntervalMs: number;
  timeoutMs: number;
  maxBytes: number;
  maxKeys: number;
  fetch: JwksFetch;
  now: () => number;
  onWarning: (message: string, err?: unknown) => void;
}

function resolveJwksOptions(o: JwksKeySourceOptions): ResolvedJwksOptions {
  return {
    url: resolveJwksUrl(o.url, o.allowHttp ?? false),
    cacheTtlMs: o.cacheTtlMs ?? 600_000,
    minRefreshIntervalMs: o.minRefreshIntervalMs ?? 30_000,
    timeoutMs: o.timeoutMs ?? 5_000,
    maxBytes: o.maxBytes ?? 1024 * 1024,
    maxKeys: o.maxKeys ?? 100,
    fetch: o.fetch ?? globalJwksFetch,
    now: o.now ?? Date.now,
    onWarning: o.onWarning ?? (() => undefined),
  };
}

/**
 * Fetches a JWK set and keeps its keys by `kid`: fetched on first use, again after `cacheTtlMs`,
 * and early when a token names a `kid` the set does not have (at most once per
 * `minRefreshIntervalMs`). When a refresh fails the keys already held stay in use, so an
 * identity provider outage does not lock every caller out; a key removed from the set stops
 * being accepted at the next successful refresh.
 */
export class JwksKeySource {
  readonly #o: ResolvedJwksOptions;
  #keys: JwksKey[] = [];
  #byKid = new Map<string, JwksKey>();
  #loaded = false;
  #fetchedAtMs = 0;
  #lastAttemptMs = Number.NEGATIVE_INFINITY;
  #refreshing?: Promise<void>;

  constructor(options: JwksKeySourceOptions) {
    this.#o = resolveJwksOptions(options);
  }

  /** Key ids currently held. */
  get kids(): string[] {
    return [...this.#byKid.keys()];
  }

  /**
   * The key for a token's `kid` and `alg`. Throws {@link JwksTokenError} when the set has no such
   * key, {@link JwksUnavailableError} when the set cannot be fetched and none is held.
   */
  async getKey(kid: string | undefined, alg: JwksAlgorithm): Promise<JwksKey> {
    await this.#ensureFresh();
    const found = this.#find(kid, alg);
    if (found) return found;
    if (this.#mayFetch()) {
      // The provider may have rotated since the last fetch.
      await this.refresh();
      const again = this.#find(kid, alg);
      if (again) return again;
    }
    throw new JwksTokenError(kid === undefined ? `the token has no kid and the key set has no single ${alg} key` : `no signing key with kid ${JSON.stringify(kid.slice(0, 64))} for ${alg}`);
  }

  /** Fetches the set now (one fetch at a time; concurrent callers share it). Throws {@link JwksUnavailableError}. */
  refresh(): Promise<void> {
    return (this.#refreshing ??= this.#fetchKeys().finally(() => { this.#refreshing = undefined; }));
  }

  async #ensureFresh(): Promise<void> {
    if (this.#loaded && this.#o.now() - this.#fetchedAtMs < this.#o.cacheTtlMs) return;
    if (!this.#loaded) {
      if (this.#refreshing) return this.#refreshing;
      if (!this.#mayFetch()) throw new JwksUnavailableError(`the key set of ${this.#o.url} could not be fetched; retrying after ${this.#o.minRefreshIntervalMs} ms`);
      return this.refresh();
    }
    if (!this.#mayFetch()) return;
    try {
      await this.refresh();
    } catch (err) {
      this.#o.onWarning(`refreshing the key set of ${this.#o.url} failed; the ${this.#keys.length} keys fetched before stay in use`, err);
    }
  }

  #mayFetch(): boolean {
    return this.#o.now() - this.#lastAttemptMs >= this.#o.minRefreshIntervalMs;
  }

  #find(kid: string | undefined, alg: JwksAlgorithm): JwksKey | undefined {
    if (kid !== undefined) {
      const key = this.#byKid.get(kid);
      return key?.algorithms.includes(alg) ? key : undefined;
    }
    // Without a kid the key is unambiguous only when a single key of the set fits the algorithm.
    const fitting = this.#keys.filter((k) => k.algorithms.includes(alg));
    return fitting.length === 1 ? fitting[0] : undefined;
  }

  async #fetchKeys(): Promise<void> {
    this.#lastAttemptMs = this.#o.now();
    let keys: JwksKey[];
    try {
      const text = await downloadJwkSet(this.#o.url, this.#o);
      keys = parseJwkSet(text, { source: this.#o.url, maxKeys: this.#o.maxKeys, onWarning: (m) => this.#o.onWarning(m) });
    } catch (err) {
      throw new JwksUnavailableError(`fetching the key set of ${this.#o.url} failed: ${(err as Error).message}`, { cause: err });
    }
    const byKid = new Map<string, JwksKey>();
    for (const k of keys) if (k.kid !== undefined) byKid.set(k.kid, k);
    this.#keys = keys;
    this.#byKid = byKid;
    this.#loaded = true;
    this.#fetchedAtMs = this.#o.now();
  }
}

/** What a token verified against a JWK set must satisfy. */
export interface JwksVerifyOptions {
  /** Allowlist; anything outside {@link JWKS_ALGORITHMS} in it is ignored. */
  algorithms: readonly string[];
  audience?: string;
  issuer?: string;
  clockToleranceSec: number;
  /** Current time in seconds (tests). @defaultValue now */
  clockTimestampSec?: number;
}

/**
 * Verifies a token with the key its header names: refuses `none`, HS*, any algorithm outside the
 * allowlist and unknown critical header parameters before any key is looked up; then checks the
 * signature with that one algorithm, the expiry (with the clock tolerance), `aud` and `iss`.
 * Throws {@link JwksTokenError} for a bad token, {@link JwksUnavailableError} when no key set is at hand.
 */
export async function verifyWithJwks(token: string, source: JwksKeySource, options: JwksVerifyOptions): Promise<jwt.JwtPayload> {
  let decoded: jwt.Jwt | null;
  try {
    decoded = jwt.decode(token, { complete: true });
  } catch {
    decoded = null;
  }
  if (!decoded || typeof decoded !== 'object' || !decoded.header) throw new JwksTokenError('malformed token');
  const header = decoded.header as unknown as Record<string, unknown>;
  const alg = header['alg'];
  if (typeof alg !== 'string' || alg.toLowerCase() === 'none') throw new JwksTokenError('unsigned token (alg none)');
  if (!isJwksAlgorithm(alg) || !options.algorithms.includes(alg)) throw new JwksTokenError(`algorithm ${alg.slice(0, 16)} is not allowed`);
  // RFC 7515 §4.1.11: a token that marks extensions critical must be refused by a verifier that does not know them.
  if (header['crit'] !== undefined) throw new JwksTokenError('critical header parameters are not supported');
  const kid = header['kid'];
  if (kid !== undefined && !isKid(kid)) throw new JwksTokenError('kid is not a string of 1-256 characters');

  const { key } = await source.getKey(kid, alg);
  let payload: string | jwt.JwtPayload;
  try {
    payload = jwt.verify(token, key, {
      algorithms: [alg],
      clockTolerance: options.clockToleranceSec,
      ...(options.clockTimestampSec !== undefined ? { clockTimestamp: options.clockTimestampSec } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
      ...(options.issuer ? { issuer: options.issuer } : {}),
    });
  } catch (err) {
    throw new JwksTokenError(describeJwtError(err), { cause: err });
  }
  if (typeof payload !== 'object' || payload === null) throw new JwksTokenError('token payload is not a JSON object');
  return payload;
}
