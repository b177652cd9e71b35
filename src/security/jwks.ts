import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describeJwtError } from './jwt-errors';
import { ConfigError, PlatformError } from '../errors';

/**
 * Client tokens signed by an identity provider that publishes its public keys as a JWK set
 * (RFC 7517), e.g. `https://idp.example/.well-known/jwks.json`.
 *
 * Only asymmetric algorithms are ever accepted with a JWK set: a symmetric (`oct`) key in a
 * published set would be a secret anyone can read, and accepting HS* would reopen the
 * algorithm-confusion attack (an HMAC computed over a public key). The key always comes from
 * the configured set, found by the token's `kid`; a key embedded in or pointed to by the token
 * header (`jwk`, `jku`, `x5u`, `x5c`) is ignored.
 */

/** Algorithms a JWK set may verify. */
export const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
export type JwksAlgorithm = (typeof JWKS_ALGORITHMS)[number];

const RSA_ALGORITHMS: readonly JwksAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGORITHM_BY_CURVE: Readonly<Record<string, JwksAlgorithm>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
/** Members only a private or symmetric JWK has. A published set carrying one has leaked a signing key. */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MIN_RSA_BITS = 2048;
const MAX_KID_CHARS = 256;

/** A token was refused (bad header, unknown key, signature, expiry, audience, issuer): a 401. */
export class JwksTokenError extends PlatformError {
  override readonly code = 'JWKS_TOKEN_INVALID';
}

/** The key set could not be fetched and no usable copy is cached: a 503, not the caller's fault. */
export class JwksUnavailableError extends PlatformError {
  override readonly code = 'JWKS_UNAVAILABLE';
  override readonly retryable = true;
}

/**
 * Keeps the configured algorithms a JWK set may verify and refuses a configuration that leaves
 * none (e.g. only HS256), so a misconfiguration stops start-up instead of refusing every token.
 */
export function jwksAlgorithms(configured: readonly string[]): JwksAlgorithm[] {
  const usable = configured.filter((a): a is JwksAlgorithm => (JWKS_ALGORITHMS as readonly string[]).includes(a));
  if (usable.length === 0) {
    throw new ConfigError(`invalid configuration: security.jwksAlgorithms (JWKS_ALGORITHMS) must name at least one of ${JWKS_ALGORITHMS.join(', ')}; got "${configured.join(',')}"`);
  }
  return usable;
}

/** One verification key of the set. */
export interface JwksKey {
  /** Absent when the set's key has no `kid`. */
  readonly kid?: string;
  readonly key: KeyObject;
  /** Algorithms this key may verify (its `alg` when the JWK names one). */
  readonly algorithms: readonly JwksAlgorithm[];
}

/** The part of the `fetch` API the key source uses; tests pass an in-memory one. */
export type JwksFetch = (url: string, init: { signal: AbortSignal; headers: Record<string, string>; redirect: 'error' }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

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
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new ConfigError(`invalid configuration: security.jwksUrl (JWKS_URL) "${o.url.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && !(o.allowHttp && url.protocol === 'http:')) {
    throw new ConfigError(`invalid configuration: security.jwksUrl (JWKS_URL) must be an https:// URL${o.allowHttp ? ' (or http:// outside production)' : ''}`);
  }
  return {
    url: url.toString(),
    cacheTtlMs: o.cacheTtlMs ?? 600_000,
    minRefreshIntervalMs: o.minRefreshIntervalMs ?? 30_000,
    timeoutMs: o.timeoutMs ?? 5_000,
    maxBytes: o.maxBytes ?? 1024 * 1024,
    maxKeys: o.maxKeys ?? 100,
    fetch: o.fetch ?? ((u, init) => globalThis.fetch(u, init)),
    now: o.now ?? Date.now,
    onWarning: o.onWarning ?? (() => undefined),
  };
}

/** Turns one JWK into a verification key, or says why it is not one. */
export function importJwk(jwk: unknown): JwksKey | { skipped: string } {
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) return { skipped: 'not an object' };
  const j = jwk as Record<string, unknown>;
  const kid = j['kid'];
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_CHARS)) return { skipped: 'kid is not a string of 1-256 characters' };
  const label = `key ${kid === undefined ? '(no kid)' : JSON.stringify(kid)}`;
  if (j['kty'] !== 'RSA' && j['kty'] !== 'EC') return { skipped: `${label}: kty ${String(j['kty'])} is not RSA or EC` };
  if (j['use'] !== undefined && j['use'] !== 'sig') return { skipped: `${label}: use is ${String(j['use'])}, not sig` };
  if (j['key_ops'] !== undefined && !(Array.isArray(j['key_ops']) && j['key_ops'].includes('verify'))) return { skipped: `${label}: key_ops lacks verify` };
  if (SECRET_MEMBERS.some((m) => m in j)) return { skipped: `${label}: carries private key material` };

  let family: readonly JwksAlgorithm[];
  if (j['kty'] === 'RSA') family = RSA_ALGORITHMS;
  else {
    const alg = EC_ALGORITHM_BY_CURVE[String(j['crv'])];
    if (!alg) return { skipped: `${label}: curve ${String(j['crv'])} is not P-256, P-384 or P-521` };
    family = [alg];
  }
  let algorithms = family;
  if (j['alg'] !== undefined) {
    if (!family.includes(j['alg'] as JwksAlgorithm)) return { skipped: `${label}: alg ${String(j['alg'])} does not fit kty ${String(j['kty'])}` };
    algorithms = [j['alg'] as JwksAlgorithm];
  }

  let key: KeyObject;
  try {
    key = createPublicKey({ key: j as JsonWebKey, format: 'jwk' });
  } catch (err) {
    return { skipped: `${label}: not a valid public key (${(err as Error).message})` };
  }
  if (j['kty'] === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return { skipped: `${label}: RSA key shorter than ${MIN_RSA_BITS} bits` };
  return { ...(typeof kid === 'string' ? { kid } : {}), key, algorithms };
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
      keys = this.#parse(await this.#download());
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

  async #download(): Promise<string> {
    const res = await this.#o.fetch(this.#o.url, { signal: AbortSignal.timeout(this.#o.timeoutMs), headers: { accept: 'application/jwk-set+json, application/json' }, redirect: 'error' });
    if (!res.ok) throw new Error(`answered HTTP ${res.status}`);
    const text = await res.text();
    if (Buffer.byteLength(text, 'utf8') > this.#o.maxBytes) throw new Error(`response larger than ${this.#o.maxBytes} bytes`);
    return text;
  }

  #parse(text: string): JwksKey[] {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error('response is not JSON');
    }
    const list = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw new Error('response is not a JWK set (no keys array)');
    if (list.length > this.#o.maxKeys) this.#o.onWarning(`the key set of ${this.#o.url} has ${list.length} keys; only the first ${this.#o.maxKeys} are used`);
    const keys: JwksKey[] = [];
    const seen = new Set<string>();
    for (const jwk of list.slice(0, this.#o.maxKeys)) {
      const k = importJwk(jwk);
      if ('skipped' in k) { this.#o.onWarning(`skipping a key of ${this.#o.url}: ${k.skipped}`); continue; }
      if (k.kid !== undefined) {
        // Two keys under one kid would make the choice depend on their order: keep neither guess.
        if (seen.has(k.kid)) { this.#o.onWarning(`skipping a key of ${this.#o.url}: kid ${JSON.stringify(k.kid)} repeats`); continue; }
        seen.add(k.kid);
      }
      keys.push(k);
    }
    // A set with no usable key is more likely a broken provider than a revocation of every key.
    if (keys.length === 0) throw new Error('the set has no usable signing key');
    return keys;
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
  if (!(JWKS_ALGORITHMS as readonly string[]).includes(alg) || !options.algorithms.includes(alg)) throw new JwksTokenError(`algorithm ${alg.slice(0, 16)} is not allowed`);
  // RFC 7515 §4.1.11: a token that marks extensions critical must be refused by a verifier that does not know them.
  if (header['crit'] !== undefined) throw new JwksTokenError('critical header parameters are not supported');
  const kid = header['kid'];
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_CHARS)) throw new JwksTokenError('kid is not a string of 1-256 characters');

  const { key } = await source.getKey(kid, alg as JwksAlgorithm);
  let payload: string | jwt.JwtPayload;
  try {
    payload = jwt.verify(token, key, {
      algorithms: [alg as JwksAlgorithm],
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
