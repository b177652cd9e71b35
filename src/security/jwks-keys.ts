import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors';

/**
 * Turns a published JWK set (RFC 7517) into verification keys. Only asymmetric public keys made
 * for signing survive: a symmetric (`oct`) key in a published set would be a secret anyone can
 * read, and accepting it would reopen the algorithm-confusion attack (an HMAC computed over a
 * public key).
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

/**
 * Whether a value may be a key id: a string of 1-256 characters. Bounds what a token header or a
 * key set can make the principal hold, log or echo.
 */
export function isKid(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_KID_CHARS;
}

/** Says whether a name is one of {@link JWKS_ALGORITHMS}. */
export function isJwksAlgorithm(name: string): name is JwksAlgorithm {
  return (JWKS_ALGORITHMS as readonly string[]).includes(name);
}

/**
 * Keeps the configured algorithms a JWK set may verify and refuses a configuration that leaves
 * none (e.g. only HS256), so a misconfiguration stops start-up instead of refusing every token.
 */
export function jwksAlgorithms(configured: readonly string[]): JwksAlgorithm[] {
  const usable = configured.filter(isJwksAlgorithm);
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

/** Turns one JWK into a verification key, or says why it is not one. */
export function importJwk(jwk: unknown): JwksKey | { skipped: string } {
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) return { skipped: 'not an object' };
  const j = jwk as Record<string, unknown>;
  const kid = j['kid'];
  if (kid !== undefined && !isKid(kid)) return { skipped: 'kid is not a string of 1-256 characters' };
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

/** How {@link parseJwkSet} treats one document. */
export interface JwkSetParseOptions {
  /** Where the document came from, for the warnings. */
  source: string;
  /** Keys beyond this many are ignored (with a warning). */
  maxKeys: number;
  /** Told about every key that was skipped and why. */
  onWarning: (message: string) => void;
}

/**
 * The usable verification keys of a JWK set document. Throws a plain `Error` (the caller says
 * which set failed) when the text is not JSON, has no `keys` array, or leaves no usable key.
 */
export function parseJwkSet(text: string, options: JwkSetParseOptions): JwksKey[] {
  const { source, maxKeys, onWarning } = options;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error('response is not JSON');
  }
  const list = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new Error('response is not a JWK set (no keys array)');
  if (list.length > maxKeys) onWarning(`the key set of ${source} has ${list.length} keys; only the first ${maxKeys} are used`);
  const keys: JwksKey[] = [];
  const seen = new Set<string>();
  for (const jwk of list.slice(0, maxKeys)) {
    const k = importJwk(jwk);
    if ('skipped' in k) { onWarning(`skipping a key of ${source}: ${k.skipped}`); continue; }
    if (k.kid !== undefined) {
      // Two keys under one kid would make the choice depend on their order: keep neither guess.
      if (seen.has(k.kid)) { onWarning(`skipping a key of ${source}: kid ${JSON.stringify(k.kid)} repeats`); continue; }
      seen.add(k.kid);
    }
    keys.push(k);
  }
  // A set with no usable key is more likely a broken provider than a revocation of every key.
  if (keys.length === 0) throw new Error('the set has no usable signing key');
  return keys;
}
