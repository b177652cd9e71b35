import { strict as assert } from 'node:assert';
import { BrokerRotation } from '../../../src/transport/broker-rotation';

describe('broker rotation', () => {
  const urls = ['amqp://anki:s3cret%2Cpass@mq-1.internal:5672/prod', 'amqps://anki:other@mq-2.internal/prod?heartbeat=30&frameMax=8192', 'amqp://[::1]:5673/prod'];

  it('gives amqplib the fields of the first broker, credentials decoded and the vhost as the URL spells it', () => {
    const r = new BrokerRotation(urls, 10);
    assert.deepEqual(
      { protocol: r.protocol, hostname: r.hostname, port: r.port, username: r.username, password: r.password, vhost: r.vhost, heartbeat: r.heartbeat, frameMax: r.frameMax },
      { protocol: 'amqp', hostname: 'mq-1.internal', port: 5672, username: 'anki', password: 's3cret,pass', vhost: 'prod', heartbeat: 10, frameMax: undefined },
    );
    assert.equal(r.target, 'mq-1.internal:5672');
  });

  it('moves on to the next broker and after the last back to the first', () => {
    const r = new BrokerRotation(urls, 10);
    r.advance();
    assert.deepEqual({ protocol: r.protocol, hostname: r.hostname, port: r.port, heartbeat: r.heartbeat, frameMax: r.frameMax, target: r.target },
      { protocol: 'amqps', hostname: 'mq-2.internal', port: 5671, heartbeat: 30, frameMax: 8192, target: 'mq-2.internal:5671' });
    r.advance();
    assert.deepEqual({ hostname: r.hostname, port: r.port, target: r.target }, { hostname: '::1', port: 5673, target: '[::1]:5673' });
    r.advance();
    assert.equal(r.target, 'mq-1.internal:5672');
  });

  it('leaves the credentials out when the URL names none, so amqplib logs in as guest as it does for a URL string', () => {
    const r = new BrokerRotation(['amqp://127.0.0.1'], 5);
    assert.equal(r.username, undefined);
    assert.equal(r.password, undefined);
    assert.equal(r.vhost, '');
  });

  it('never shows a password when it is logged or serialized', () => {
    const r = new BrokerRotation(urls, 10);
    assert.doesNotMatch(JSON.stringify({ r }), /s3cret|other/);
    assert.deepEqual(r.toJSON(), { brokers: ['mq-1.internal:5672', 'mq-2.internal:5671', '[::1]:5673'], current: 'mq-1.internal:5672' });
  });

  it('refuses an empty list', () => {
    assert.throws(() => new BrokerRotation([], 10), /no broker URL/);
  });
});
