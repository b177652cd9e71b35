import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { amqpConnectArgs, type AmqpConnectSettings } from '../../../src/transport/amqp-connection';

const settings: AmqpConnectSettings = { urls: ['amqp://guest:guest@127.0.0.1:5672/vh'], heartbeatSec: 7, reconnectMaxDelayMs: 4000, connectionName: 'ki-1' };
const setup = async () => undefined;

describe('AMQP connect arguments', () => {
  it('connects with the configured heartbeat', () => {
    const { brokers } = amqpConnectArgs(settings, setup);
    assert.equal(brokers.heartbeat, 7);
  });

  it('keeps a heartbeat the URL already names', () => {
    const { brokers } = amqpConnectArgs({ ...settings, urls: [`${settings.urls[0]}?heartbeat=30`] }, setup);
    assert.equal(brokers.heartbeat, 30);
  });

  it('names the connection, turns Nagle off, and recovers forever with the configured delay cap and the given setup', () => {
    const { options } = amqpConnectArgs(settings, setup);
    assert.deepEqual(options.clientProperties, { connection_name: 'ki-1' });
    assert.equal(options.noDelay, true);
    assert.equal(options.recovery.maxDelay, 4000);
    assert.equal(options.recovery.maxRetries, Infinity);
    assert.equal(options.recovery.initialMaxRetries, 3);
    assert.equal(options.recovery.setup, setup);
    assert.equal(options.recovery.waitForConnect, false, 'the transport listens before the first try');
    assert.equal('ca' in options, false);
  });

  it('tries every broker of a long list before a first connect gives up', () => {
    const urls = Array.from({ length: 6 }, (_, i) => `amqp://u:p@mq-${i}:5672/vh`);
    const { brokers, options } = amqpConnectArgs({ ...settings, urls }, setup);
    assert.equal(brokers.size, 6);
    assert.equal(options.recovery.initialMaxRetries, 5);
  });

  it('abandons a connect whose handshake has not finished within the connect timeout, so a try into a silent network is not waited out', () => {
    assert.equal(amqpConnectArgs({ ...settings, connectTimeoutMs: 5000 }, setup).options.timeout, 5000);
    assert.equal('timeout' in amqpConnectArgs({ ...settings, connectTimeoutMs: 0 }, setup).options, false, '0: none');
  });

  it('reads the TLS files it is given, and fails at once on a missing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'anki-tls-'));
    try {
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `${f} bytes`);
      const { options } = amqpConnectArgs({ ...settings, tls: { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') } }, setup);
      assert.deepEqual(options.ca, [Buffer.from('ca.pem bytes')]);
      assert.deepEqual(options.cert, Buffer.from('cert.pem bytes'));
      assert.deepEqual(options.key, Buffer.from('key.pem bytes'));
      assert.throws(() => amqpConnectArgs({ ...settings, tls: { caFile: join(dir, 'missing.pem') } }, setup), { code: 'ENOENT' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
