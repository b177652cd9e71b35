import { strict as assert } from 'node:assert';
import { BatchSender } from '../../../src/transport/batch-sender';

/** A send the test completes by hand, one record per message. */
function controlledSend() {
  const sent: { key: string; items: number[]; done: () => void; fail: (err: Error) => void }[] = [];
  const send = (key: string, items: number[]) => new Promise<void>((resolve, reject) => { sent.push({ key, items: [...items], done: resolve, fail: reject }); });
  return { sent, send };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('BatchSender', () => {
  it('sends what was added for one destination in one turn as one message, per destination', async () => {
    const { sent, send } = controlledSend();
    const heard: number[] = [];
    const b = new BatchSender<number>({ send, maxItems: 100, onBatch: (n) => heard.push(n) });
    const out = [b.add('ki1', 1), b.add('ki2', 2), b.add('ki1', 3)];
    assert.equal(sent.length, 0, 'nothing goes before the turn ends');
    await turn();
    assert.deepEqual(sent.map((s) => [s.key, s.items]), [['ki1', [1, 3]], ['ki2', [2]]]);
    assert.deepEqual(heard, [2, 1], 'the batch-size hook hears each message');
    for (const s of sent) s.done();
    await Promise.all(out);
    assert.equal(b.backlog, 0);
  });

  it('gathers items while a destination has its messages on the way, and sends them when one is confirmed', async () => {
    const { sent, send } = controlledSend();
    const b = new BatchSender<number>({ send, maxItems: 100, maxInFlight: 1 });
    const first = b.add('an1', 1);
    await turn();
    const later = [b.add('an1', 2), b.add('an1', 3)];
    await turn();
    assert.equal(sent.length, 1, 'the second message waits for the first');
    sent[0]!.done();
    await first;
    await turn();
    assert.deepEqual(sent[1]!.items, [2, 3]);
    sent[1]!.done();
    await Promise.all(later);
  });

  it('splits at maxItems and rejects only the items of a message that failed', async () => {
    const { sent, send } = controlledSend();
    const b = new BatchSender<number>({ send, maxItems: 2, maxInFlight: 2 });
    const results = [1, 2, 3].map((n) => b.add('q', n).then(() => 'ok', (err: Error) => err.message));
    await turn();
    assert.deepEqual(sent.map((s) => s.items), [[1, 2], [3]]);
    sent[0]!.fail(new Error('no confirm'));
    sent[1]!.done();
    assert.deepEqual(await Promise.all(results), ['no confirm', 'no confirm', 'ok']);
    await b.drain();
  });
});
