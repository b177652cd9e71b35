import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../../src/errors';
import { derive, parseKeyRing } from '../../../src/security/key-ring';
import { KEY_1, KEY_2 } from './fixtures';

const assertConfigError = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.match(err.message, pattern);
    assert.match(err.message, /AES_KEYS/);
    return true;
  });

describe('parseKeyRing', () => {
  it('makes the first key current and keeps every key for decryption', () => {
    const ring = parseKeyRing(`k1:${KEY_1}, k2:${KEY_2}`);
    assert.equal(ring.current.id, 'k1');
    assert.deepEqual(ring.ids, ['k1', 'k2']);
    assert.equal(ring.get('k2')?.id, 'k2');
    assert.equal(ring.get('k3'), undefined);
  });

  it('derives a 32-byte AES key from each master secret instead of using the secret itself', () => {
    const ring = parseKeyRing(`k1:${KEY_1}`);
    const master = Buffer.from(KEY_1, 'base64');
    assert.equal(ring.current.secret.length, 32);
    assert.notDeepEqual(ring.current.secret, master);
    assert.deepEqual(ring.current.secret, derive(master, 'anki/envelope/aes-256-gcm', 32));
    assert.deepEqual(parseKeyRing(`other:${KEY_1}`).current.secret, ring.current.secret);
  });

  it('gives independent keys for different purposes of the same secret', () => {
    const secret = randomBytes(32);
    assert.notDeepEqual(derive(secret, 'anki/envelope/aes-256-gcm'), derive(secret, 'anki/node-token/hs256'));
  });

  it('refuses an empty spec with a ConfigError', () => {
    assertConfigError(() => parseKeyRing(''), /empty/);
    assertConfigError(() => parseKeyRing(' , ,'), /empty/);
  });

  it('refuses a key shorter than 32 bytes with a ConfigError naming its id', () => {
    const short = randomBytes(31).toString('base64');
    assertConfigError(() => parseKeyRing(`tiny:${short}`), /"tiny".*32 bytes/);
  });

  it('refuses a repeated key id with a ConfigError', () => {
    assertConfigError(() => parseKeyRing(`k1:${KEY_1},k1:${KEY_2}`), /repeats a key id/);
  });

  it('refuses an entry without a kid or with an invalid kid', () => {
    assertConfigError(() => parseKeyRing(KEY_1), /kid:base64key/);
    assertConfigError(() => parseKeyRing(`:${KEY_1}`), /kid:base64key/);
    assertConfigError(() => parseKeyRing(`bad kid:${KEY_1}`), /kid:base64key/);
  });
});
