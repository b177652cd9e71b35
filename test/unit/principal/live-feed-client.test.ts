import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { FeedClient, type EventSink } from '../../../src/principal/live-feed-client';
import { frame, signatureOf, toLiveTask } from '../../../src/principal/live-feed-frames';

class Sink extends EventEmitter implements EventSink {
  written: string[] = [];
  accept = true;
  write(chunk: string): boolean {
    this.written.push(chunk);
    return this.accept;
  }
  end(): void { this.emit('close'); }
}

const limits = { maxQueuedEvents: 3, maxQueuedBytes: 1 << 20 };
const client = (sink: Sink, ended: FeedClient[] = []) => new FeedClient({ sub: 'alice', roles: ['submitter'] }, sink, limits, () => 1000, (c) => ended.push(c));

describe('FeedClient', () => {
  it('reads only its own tasks as a submitter', () => {
    const c = client(new Sink());
    assert.equal(c.mayRead({ owner: 'alice' }), true);
    assert.equal(c.mayRead({ owner: 'bob' }), false);
  });

  it('queues while the socket is full and writes the queue in order on drain', () => {
    const sink = new Sink();
    const c = client(sink);
    sink.accept = false;
    c.send(frame('task', 'task', { n: 1 }));
    assert.equal(c.blockedSinceMs, 1000);
    assert.equal(c.send(frame('task', 'task', { n: 2 })), 0);
    sink.accept = true;
    sink.emit('drain');
    assert.equal(sink.written.length, 2);
    assert.match(sink.written[1]!, /"n":2/);
    assert.equal(c.queue.length, 0);
  });

  it('keeps only the newest queued snapshot, and replaces an overflowing queue with one resync', () => {
    const sink = new Sink();
    const c = client(sink);
    sink.accept = false;
    c.write(frame('control', 'hello', {}));
    c.send(frame('nodes', 'nodes', { v: 1 }));
    c.send(frame('nodes', 'nodes', { v: 2 }));
    assert.equal(c.queue.length, 1);
    c.send(frame('task', 'task', { n: 1 }));
    c.send(frame('task', 'task', { n: 2 }));
    const dropped = c.send(frame('task', 'task', { n: 3 }));
    assert.equal(dropped, 4, 'three queued events and the new one');
    assert.equal(c.queue.length, 1);
    assert.match(c.queue[0]!.text, /event: resync/);
  });

  it('ends itself through the feed when a write throws, and forgets its queue', () => {
    const ended: FeedClient[] = [];
    const sink = new Sink();
    sink.write = () => { throw new Error('socket gone'); };
    const c = client(sink, ended);
    c.write(frame('task', 'task', {}));
    assert.deepEqual(ended, [c]);
    c.forget();
    assert.equal(c.closed, true);
    assert.equal(c.send(frame('task', 'task', {})), 0);
  });
});

describe('live feed frames', () => {
  it('sends only the listed task fields, dates as ISO text', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    assert.deepEqual(toLiveTask({ id: 't', status: 'running', owner: 'a', ki: null, updatedAt: at }), { id: 't', status: 'running', owner: 'a', ki: null, updatedAt: at.toISOString() });
  });

  it('sees two snapshots that differ only in lastSeen as the same', () => {
    assert.equal(signatureOf([{ id: 'k', lastSeen: '1' }]), signatureOf([{ id: 'k', lastSeen: '2' }]));
    assert.notEqual(signatureOf([{ id: 'k', status: 'alive' }]), signatureOf([{ id: 'k', status: 'dead' }]));
  });
});
