import { strict as assert } from 'node:assert';
import type { ConsumeMessage, Options } from 'amqplib';
import type { WireMessage } from '../../../src/security/envelope';
import { fromConsumeMessage, toPublishProperties } from '../../../src/transport/amqp-wire';

/** What a consumer gets for a message published with `props`: the broker hands the properties back as they were sent. */
function delivered(body: Buffer, props: Options.Publish): ConsumeMessage {
  return { content: body, fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q', consumerTag: 'c' }, properties: { ...props } } as unknown as ConsumeMessage;
}

const base: WireMessage = { id: 'm1', type: 'task.pending', sender: 'an-1', timestampMs: 1_700_000_000_123, kid: 'k7', body: Buffer.from('sealed') };

describe('AMQP wire mapping', () => {
  it('carries every field of a message through the AMQP properties and headers, byte for byte', () => {
    const m: WireMessage = { ...base, taskIds: ['t1', 't2'], sig: Buffer.from([0, 1, 2, 250, 251, 255]) };
    const back = fromConsumeMessage(delivered(m.body, toPublishProperties(m, {})));
    assert.deepEqual(back, m);
  });

  it('leaves out the task ids and the signature when a message has none', () => {
    const props = toPublishProperties({ ...base, taskIds: [] }, {});
    assert.deepEqual(Object.keys(props.headers as object).sort(), ['x-kid', 'x-ts']);
    const back = fromConsumeMessage(delivered(base.body, props));
    assert.equal('taskIds' in back, false);
    assert.equal('sig' in back, false);
  });

  it('sends the time in milliseconds in x-ts and in whole seconds in the AMQP timestamp', () => {
    const props = toPublishProperties(base, {});
    assert.equal(props.timestamp, 1_700_000_000);
    assert.equal((props.headers as Record<string, unknown>)['x-ts'], 1_700_000_000_123);
  });

  it('maps persistence and expiration from the publish options, and sets no expiration without one', () => {
    const durable = toPublishProperties(base, { persistent: true, expirationMs: 1500 });
    assert.equal(durable.persistent, true);
    assert.equal(durable.expiration, '1500');
    const plain = toPublishProperties(base, {});
    assert.equal(plain.persistent, false);
    assert.equal('expiration' in plain, false);
  });

  it('reads a message without the platform headers as empty fields, for the envelope check to refuse, rather than throwing', () => {
    const back = fromConsumeMessage(delivered(Buffer.from('x'), {}));
    assert.equal(back.id, '');
    assert.equal(back.kid, '');
    assert.equal(back.sender, '');
    assert.ok(Number.isNaN(back.timestampMs));
  });
});
