import { strict as assert } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import { assertNoSecrets, registerSecrets, secretsIn } from '../../helpers/secret-scan';
import { DEV_AES_KEYS, DEV_JWT_SECRET } from '../../../src/config/schema';

describe('the e2e secret scan', () => {
  it('finds the development secrets, an AES key as base64 or as its bytes, and a line of a PEM key', () => {
    assert.deepEqual(secretsIn(`log line ${DEV_JWT_SECRET}`), ['JWT_SECRET_KEY']);
    const devKey = DEV_AES_KEYS.slice(DEV_AES_KEYS.indexOf(':') + 1);
    assert.ok(secretsIn(`{"aes":"${devKey}"}`).length > 0);
    assert.ok(secretsIn(Buffer.from(devKey, 'base64').toString('latin1')).length > 0);
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    registerSecrets({ NODE_SIGNING_KEY: pem });
    assert.deepEqual(secretsIn(`stderr: ${pem.split('\n')[1]}`), ['NODE_SIGNING_KEY line']);
    assert.throws(() => assertNoSecrets('a span', `url.query=token&k=${DEV_JWT_SECRET}`), /JWT_SECRET_KEY found in a span/);
  });

  it('ignores public PEM headers and short values that would match by chance', () => {
    // Registered here, so that this test does not lean on the one above having registered a PEM.
    registerSecrets({ NODE_SIGNING_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    registerSecrets({ JOIN_SECRET: 'guest' });
    assert.deepEqual(secretsIn('-----BEGIN PRIVATE KEY----- amqp://guest:guest@127.0.0.1'), []);
  });

  it('finds the password of each broker of an AMQP_URL list, and of a DATABASE_URL, but not the public parts of the URLs', () => {
    registerSecrets({
      AMQP_URL: 'amqp://anki:broker-one-password-0123@10.0.0.1:5672/v,amqp://anki:broker-two-password%2C4567@10.0.0.2:5672/v',
      DATABASE_URL: 'postgres://anki:database-password-89ab@db:5432/anki',
    });
    assert.deepEqual(secretsIn('connected to amqp://anki:broker-one-password-0123@10.0.0.1'), ['AMQP_URL password']);
    assert.deepEqual(secretsIn('broker-two-password,4567'), ['AMQP_URL password']);
    assert.deepEqual(secretsIn('pg error for database-password-89ab'), ['DATABASE_URL password']);
    assert.deepEqual(secretsIn('broker 10.0.0.2:5672 vhost v user anki'), []);
  });
});
