import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors';

/** Algorithms of issued node tokens. The key type decides which one; HS and `none` never appear here. */
export type NodeTokenAlgorithm = 'ES256' | 'RS256';

/** A public key that node tokens are verified with, named by its RFC 7638 thumbprint. */
export interface VerifyKey {
  readonly kid: string;
  readonly alg: NodeTokenAlgorithm;
  readonly key: KeyObject;
  /** SPKI PEM, as announced in join replies. */
  readonly pem: string;
}

/** The principal's private key and its public half. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: NodeTokenAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: VerifyKey;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;
const MIN_RSA_BITS = 2048;

/**
 * The PEM blocks of a setting: the text itself when it holds PEM (a literal `\n` from a one-line
 * environment variable counts as a line break), else comma-separated file paths.
 */
function pemBlocks(value: string, what: string): string[] {
  const text = value.includes('-----BEGIN') ? (value.includes('\n') ? value : value.replace(/\\n/g, '\n')) : readFiles(value, what);
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new ConfigError(`invalid configuration: ${what} holds no PEM key`);
  return blocks;
}

function readFiles(value: string, what: string): string {
  return value.split(',').map((p) => p.trim()).filter(Boolean).map((path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`invalid configuration: ${what} names a file that cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
  }).join('\n');
}

/** ES256 for EC P-256, RS256 for RSA of 2048 bits or more; anything else is a configuration error. */
function algorithmOf(key: KeyObject, what: string): NodeTokenAlgorithm {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec' && d?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'rsa' && (d?.modulusLength ?? 0) >= MIN_RSA_BITS) return 'RS256';
  const kind = key.asymmetricKeyType === 'ec' ? `EC ${d?.namedCurve ?? '?'}` : key.asymmetricKeyType === 'rsa' ? `RSA ${d?.modulusLength ?? '?'} bits` : String(key.asymmetricKeyType);
  throw new ConfigError(`invalid configuration: ${what} is a ${kind} key; node tokens need EC P-256 (ES256) or RSA of at least ${MIN_RSA_BITS} bits (RS256)`);
}

/** RFC 7638 JWK thumbprint: the same public key gives the same kid on every node. */
export function thumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** A verify key from one public PEM block; throws a ConfigError naming `what`. */
export function verifyKeyFromPem(pem: string, what: string): VerifyKey {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${what} is not a readable public key`, { cause: err });
  }
  if (key.type !== 'public') throw new ConfigError(`invalid configuration: ${what} must be a public key`);
  const alg = algorithmOf(key, what);
  return { kid: thumbprint(key), alg, key, pem: key.export({ format: 'pem', type: 'spki' }).toString() };
}

/** `NODE_SIGNING_KEY`: one private key, as PEM text or a path. */
export function loadSigningKey(value: string, what = 'security.nodeSigningKey (NODE_SIGNING_KEY)'): SigningKey {
  const blocks = pemBlocks(value, what);
  if (blocks.length !== 1) throw new ConfigError(`invalid configuration: ${what} must hold exactly one private key`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(blocks[0]!);
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${what} is not a readable private key`, { cause: err });
  }
  const alg = algorithmOf(privateKey, what);
  const publicKey = verifyKeyFromPem(createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString(), what);
  return { kid: publicKey.kid, alg, privateKey, publicKey };
}

/** `NODE_TOKEN_PUBLIC_KEYS` / `NODE_TOKEN_EXTRA_PUBLIC_KEYS`: zero or more public keys. */
export function loadVerifyKeys(value: string, what: string): VerifyKey[] {
  if (!value.trim()) return [];
  return pemBlocks(value, what).map((pem, i) => verifyKeyFromPem(pem, `${what} key ${i + 1}`));
}

/** A fresh ES256 key pair for `node dist/main.js keygen`. */
export function generateNodeKeyPair(): { privatePem: string; publicPem: string; kid: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    kid: thumbprint(publicKey),
  };
}
