import { strict as assert } from 'node:assert';
import { splitDelivery } from '../../../src/an/pending-parts';
import type { Delivery } from '../../../src/transport';

function fakeDelivery() {
  const settled: string[] = [];
  const d: Delivery = {
    message: { id: 'm1', type: 'task.pending', sender: 'p1', timestampMs: 0, kid: 'k1', body: Buffer.alloc(0) },
    redelivered: false,
    ack: () => settled.push('ack'),
    reject: () => settled.push('reject'),
    requeue: () => settled.push('requeue'),
  };
  return { d, settled };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('splitDelivery', () => {
  it('hands a one-task message through unchanged', () => {
    const { d } = fakeDelivery();
    assert.equal(splitDelivery(d, ['a'], async () => undefined)[0], d);
  });

  it('acks the message once every part is acked, once, whatever the order', () => {
    const { d, settled } = fakeDelivery();
    const parts = splitDelivery(d, ['a', 'b', 'c'], async () => undefined);
    parts[2]!.ack();
    parts[0]!.ack();
    parts[0]!.ack();
    assert.deepEqual(settled, []);
    parts[1]!.ack();
    assert.deepEqual(settled, ['ack']);
  });

  it('republishes a part given back on its own, then counts it as done', async () => {
    const { d, settled } = fakeDelivery();
    const republished: string[] = [];
    const parts = splitDelivery(d, ['a', 'b'], async (item) => { republished.push(item); });
    parts[0]!.ack();
    parts[1]!.requeue();
    await turn();
    assert.deepEqual(republished, ['b']);
    assert.deepEqual(settled, ['ack']);
  });

  it('gives the whole message back when a part cannot be republished', async () => {
    const { d, settled } = fakeDelivery();
    const parts = splitDelivery(d, ['a', 'b'], async () => { throw new Error('broker away'); });
    parts[0]!.requeue();
    await turn();
    assert.deepEqual(settled, ['requeue']);
  });
});
