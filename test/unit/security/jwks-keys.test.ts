import { strict as assert } from 'node:assert';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { importJwk, isJwksAlgorithm, isKid, parseJwkSet, type JwkSetParseOptions } from '../../../src/security/jwks-keys';

const SOURCE = 'https://idp.example/.well-known/jwks.json';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const publicJwk = (key: KeyObject, extra: Record<string, unknown> = {}) => ({ ...key.export({ format: 'jwk' }), use: 'sig', ...extra });

function parse(doc: unknown, o: Partial<JwkSetParseOptions> = {}) {
  const warnings: string[] = [];
  const text = typeof doc === 'string' ? doc : JSON.stringify(doc);
  const keys = parseJwkSet(text, { source: SOURCE, maxKeys: 100, onWarning: (m) => warnings.push(m), ...o });
  return { keys, warnings };
}

describe('isKid', () => {
  it('accepts strings of 1 to 256 characters and nothing else', () => {
    assert.equal(isKid('k'), true);
    assert.equal(isKid('k'.repeat(256)), true);
    assert.equal(isKid(''), false);
    assert.equal(isKid('k'.repeat(257)), false);
    assert.equal(isKid(42), false);
    assert.equal(isKid(undefined), false);
  });
});

describe('isJwksAlgorithm', () => {
  it('names only the asymmetric algorithms', () => {
    for (const alg of ['RS256', 'PS384', 'ES512']) assert.equal(isJwksAlgorithm(alg), true, alg);
    for (const alg of ['HS256', 'none', 'EdDSA', 'rs256']) assert.equal(isJwksAlgorithm(alg), false, alg);
  });
});

describe('importJwk', () => {
  it('gives an RSA key without alg every RSA algorithm', () => {
    const k = importJwk(publicJwk(rsa.publicKey, { kid: 'r' }));
    assert.ok(!('skipped' in k));
    assert.equal(k.kid, 'r');
    assert.deepEqual(k.algorithms, ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
  });

  it('keeps a key without kid, leaving kid out', () => {
    const k = importJwk(publicJwk(ec.publicKey));
    assert.ok(!('skipped' in k));
    assert.equal('kid' in k, false);
  });

  it('says why it skips a key', () => {
    const cases: Array<[unknown, RegExp]> = [
      [[publicJwk(ec.publicKey)], /not an object/],
      [null, /not an object/],
      [publicJwk(ec.publicKey, { kid: 'k'.repeat(257) }), /kid is not a string of 1-256 characters/],
      [publicJwk(ec.publicKey, { kid: 7 }), /kid is not a string/],
      [{ ...publicJwk(ec.publicKey, { kid: 'c' }), crv: 'secp256k1' }, /curve secp256k1 is not P-256, P-384 or P-521/],
      [{ kty: 'EC', kid: 'broken', crv: 'P-256', x: 'AAAA', y: 'AAAA' }, /key "broken": not a valid public key/],
      [{ kty: 'OKP', kid: 'ed', crv: 'Ed25519', x: 'AAAA' }, /kty OKP is not RSA or EC/],
      [publicJwk(ec.publicKey, { kid: 'kid-ops', key_ops: 'verify' }), /key_ops lacks verify/],
    ];
    for (const [jwk, why] of cases) {
      const k = importJwk(jwk);
      assert.ok('skipped' in k, `skipped ${JSON.stringify(jwk)?.slice(0, 80)}`);
      assert.match(k.skipped, why);
    }
  });
});

describe('parseJwkSet', () => {
  it('returns the usable keys in the order of the set', () => {
    const { keys, warnings } = parse({ keys: [publicJwk(rsa.publicKey, { kid: 'r' }), publicJwk(ec.publicKey, { kid: 'e' })] });
    assert.deepEqual(keys.map((k) => k.kid), ['r', 'e']);
    assert.deepEqual(warnings, []);
  });

  it('refuses text that is not JSON or not a JWK set', () => {
    assert.throws(() => parse('{"keys": ['), /response is not JSON/);
    assert.throws(() => parse('null'), /no keys array/);
    assert.throws(() => parse({ keys: {} }), /no keys array/);
    assert.throws(() => parse([publicJwk(ec.publicKey)]), /no keys array/);
  });

  it('refuses a set that leaves no usable key, after warning about each one', () => {
    let warnings: string[] = [];
    assert.throws(() => parseJwkSet(JSON.stringify({ keys: [{ kty: 'oct', kid: 'h', k: 'c2VjcmV0' }] }), { source: SOURCE, maxKeys: 100, onWarning: (m) => { warnings = [...warnings, m]; } }), /no usable signing key/);
    assert.deepEqual(warnings, [`skipping a key of ${SOURCE}: key "h": kty oct is not RSA or EC`]);
    assert.throws(() => parse({ keys: [] }), /no usable signing key/);
  });

  it('keeps the first key of a repeated kid and warns about the others', () => {
    const { keys, warnings } = parse({ keys: [publicJwk(rsa.publicKey, { kid: 'dup' }), publicJwk(rsa2.publicKey, { kid: 'dup' })] });
    assert.equal(keys.length, 1);
    assert.ok(keys[0]?.key.equals(rsa.publicKey));
    assert.deepEqual(warnings, [`skipping a key of ${SOURCE}: kid "dup" repeats`]);
  });

  it('keeps several keys without kid', () => {
    const { keys } = parse({ keys: [publicJwk(rsa.publicKey), publicJwk(rsa2.publicKey)] });
    assert.equal(keys.length, 2);
  });

  it('uses only the first maxKeys keys and says so', () => {
    const { keys, warnings } = parse({ keys: [publicJwk(rsa.publicKey, { kid: 'a' }), publicJwk(rsa2.publicKey, { kid: 'b' }), publicJwk(ec.publicKey, { kid: 'c' })] }, { maxKeys: 2 });
    assert.deepEqual(keys.map((k) => k.kid), ['a', 'b']);
    assert.deepEqual(warnings, [`the key set of ${SOURCE} has 3 keys; only the first 2 are used`]);
  });
});
