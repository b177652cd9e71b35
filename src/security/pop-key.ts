import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/** The public half of a proof-of-possession key as it travels: an EC P-256 JWK (RFC 7517), public members only. */
export interface PopJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

/** Raw r|s (64 bytes), not DER: fixed size, and what JOSE uses for ES256. */
const SIG_OPTIONS = { dsaEncoding: 'ieee-p1363' } as const;
const SIG_BYTES = 64;

/** A JWK whose members have the shape of a P-256 public key; the import decides whether it is one. */
export function isPopJwk(v: unknown): v is PopJwk {
  if (!v || typeof v !== 'object') return false;
  const j = v as Record<string, unknown>;
  return j['kty'] === 'EC' && j['crv'] === 'P-256' && typeof j['x'] === 'string' && typeof j['y'] === 'string';
}

/** Imports a confirmation key; throws when it is not a point on P-256. */
export function importPopKey(jwk: PopJwk): KeyObject {
  return createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
}

/** What a message signature covers: its AAD (id, type, sender, time, kid) and its whole body. */
function signedBytes(aad: Buffer, body: Buffer): Buffer {
  return Buffer.concat([aad, body]);
}

/**
 * Checks a message signature. The body is signed whole rather than only the GCM tag: every node
 * holds the AES key and so GHASH's key, and can make another ciphertext with the same tag.
 */
export function verifyMessageSig(key: KeyObject, aad: Buffer, body: Buffer, sig: Buffer | undefined): boolean {
  if (!sig || sig.length !== SIG_BYTES) return false;
  try {
    return verify('sha256', signedBytes(aad, body), { key, ...SIG_OPTIONS }, sig);
  } catch {
    return false;
  }
}

/**
 * This process's proof-of-possession key pair (issued mode): made at start-up, kept in memory only.
 * Its public half is confirmed by the node token (`cnf.jwk`), so a token lifted from a message is
 * worthless without the private half that signs every message.
 */
export class PopKeyPair {
  readonly jwk: PopJwk;
  /** RFC 7638 thumbprint of the public key, for logs and the join proof. */
  readonly thumbprint: string;
  readonly #privateKey: KeyObject;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    this.#privateKey = privateKey;
    this.jwk = { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y) };
    this.thumbprint = popThumbprint(this.jwk);
  }

  signMessage(aad: Buffer, body: Buffer): Buffer {
    return sign('sha256', signedBytes(aad, body), { key: this.#privateKey, ...SIG_OPTIONS });
  }
}

/** Whether two confirmation keys are the same public key. */
export function samePopKey(a: PopJwk | undefined, b: PopJwk): boolean {
  return a !== undefined && a.x === b.x && a.y === b.y && a.crv === b.crv;
}

/** RFC 7638 thumbprint of a confirmation key (members in lexical order). */
export function popThumbprint(jwk: PopJwk): string {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');
}
