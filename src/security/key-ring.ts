import { hkdfSync } from 'node:crypto';
import { ConfigError } from '../errors';

/** One AES-256 key with the id that travels in each message header. */
export interface AesKey {
  readonly id: string;
  readonly secret: Buffer;
}

/** Keys for sealing messages: the first encrypts, all decrypt, so keys rotate without downtime. */
export class KeyRing {
  readonly #byId: ReadonlyMap<string, AesKey>;
  constructor(readonly current: AesKey, keys: readonly AesKey[]) {
    this.#byId = new Map(keys.map((k) => [k.id, k]));
  }
  get(id: string): AesKey | undefined {
    return this.#byId.get(id);
  }
  get ids(): string[] {
    return [...this.#byId.keys()];
  }
}

/**
 * Parses `AES_KEYS` (`kid:base64key,...`). Each configured key is a master secret; the key that
 * actually encrypts is derived from it with HKDF for the purpose "message envelope", once at start,
 * so the same secret reused elsewhere never yields the same AES key.
 */
export function parseKeyRing(spec: string): KeyRing {
  const entries = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) throw new ConfigError('invalid configuration: security.aesKeys (AES_KEYS) is empty');
  const keys = entries.map((entry): AesKey => {
    const sep = entry.indexOf(':');
    const id = entry.slice(0, sep);
    // Never echo the entry: without its "kid:" it is the key itself.
    if (sep <= 0 || !/^[A-Za-z0-9._-]{1,32}$/.test(id)) throw new ConfigError(`invalid configuration: security.aesKeys (AES_KEYS) entry ${entries.indexOf(entry) + 1} must be kid:base64key`);
    const master = Buffer.from(entry.slice(sep + 1), 'base64');
    if (master.length < 32) throw new ConfigError(`invalid configuration: security.aesKeys (AES_KEYS) key "${id}" must decode to at least 32 bytes`);
    return { id, secret: derive(master, 'anki/envelope/aes-256-gcm', 32) };
  });
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length) throw new ConfigError('invalid configuration: security.aesKeys (AES_KEYS) repeats a key id');
  return new KeyRing(keys[0]!, keys);
}

/** HKDF-SHA256 with a purpose label, so one secret gives independent keys per use. */
export function derive(secret: Buffer | string, purpose: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), purpose, length));
}
