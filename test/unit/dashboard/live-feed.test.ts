import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import type Koa from 'koa';
import { HttpProblem } from '../../../src/http/problem';
import { LiveFeed, toLiveTask, type EventSink, type LiveFeedOptions, type LiveNode } from '../../../src/principal/live-feed';
import { ClientTokenVerifier, mintClientToken, type Caller } from '../../../src/security';
import type { ClientRole } from '../../../src/security/permissions';

const SECRET = 'live-feed-test-secret-0123456789abcdef';
const verifier = new ClientTokenVerifier({ secret: SECRET, algorithms: ['HS256'], clockToleranceSec: 0 });
const token = (sub: string, role: ClientRole | ClientRole[], ttlSec = 3600) => mintClientToken(SECRET, { sub, role, ttlSec });
const caller = (sub: string, ...roles: ClientRole[]): Caller => ({ sub, roles });

/** A response that records what is written; `accept = false` makes it refuse like a full socket. */
class FakeSink extends EventEmitter implements EventSink {
  readonly chunks: string[] = [];
  accept = true;
  ended = false;
  statusCode?: number;
  headers: Record<string, unknown> = {};
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return this.accept;
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
  writeHead(status: number, headers: Record<string, unknown>): this {
    this.statusCode = status;
    this.headers = headers;
    return this;
  }
  /** Lets writes through again, as a socket does when its buffer empties. */
  drain(): void {
    this.accept = true;
    this.emit('drain');
  }
  /** The events written so far, parsed. */
  events(): { event: string; data: any }[] {
    return this.chunks.join('').split('\n\n').flatMap((block) => {
      const event = /^event: (.+)$/m.exec(block)?.[1];
      const data = /^data: (.+)$/m.exec(block)?.[1];
      return event ? [{ event, data: data ? JSON.parse(data) : undefined }] : [];
    });
  }
  named(event: string) {
    return this.events().filter((e) => e.event === event).map((e) => e.data);
  }
}

/** Just enough of a Koa context for the middleware, without a socket. */
function fakeCtx(path: string, options: { method?: string; query?: Record<string, string | string[]>; authorization?: string } = {}) {
  const res = new FakeSink();
  const socket = { setTimeout: () => undefined, setNoDelay: () => undefined, setKeepAlive: () => undefined };
  const ctx = {
    path, method: options.method ?? 'GET', query: options.query ?? {}, status: 404, respond: true,
    get: (name: string) => (name.toLowerCase() === 'authorization' ? (options.authorization ?? '') : ''),
    req: { socket }, res,
  };
  return { ctx: ctx as unknown as Koa.Context, res, raw: ctx };
}

async function runMiddleware(feed: LiveFeed, ctx: Koa.Context): Promise<{ nextCalled: boolean }> {
  let nextCalled = false;
  await feed.middleware()(ctx, async () => { nextCalled = true; });
  return { nextCalled };
}

async function refused(p: Promise<unknown>): Promise<HttpProblem> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HttpProblem, `expected an HttpProblem, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the request to be refused');
}

const node = (id: string, status = 'alive', lastSeen = '2026-01-01T00:00:00.000Z'): LiveNode => ({ id, role: 'ki', status, group: 'an1', lastSeen });
const newFeed = (options: Partial<LiveFeedOptions> = {}) => new LiveFeed({ verifier, ...options });

describe('LiveFeed', () => {
  const feeds: LiveFeed[] = [];
  const make = (options: Partial<LiveFeedOptions> = {}) => {
    const f = newFeed(options);
    feeds.push(f);
    return f;
  };
  afterEach(() => { for (const f of feeds.splice(0)) f.close(); });

  /** Buys a stream ticket with a bearer token, as the dashboard does. */
  async function ticketFor(feed: LiveFeed, bearer: string): Promise<{ ticket: string; expiresInSec: number }> {
    const { ctx, raw } = fakeCtx('/events/ticket', { method: 'POST', authorization: `Bearer ${bearer}` });
    await runMiddleware(feed, ctx);
    return JSON.parse(String((raw as { body?: unknown }).body)) as { ticket: string; expiresInSec: number };
  }

  describe('authentication by one-use ticket', () => {
    it('answers 401 when neither a ticket nor a bearer header is given', async () => {
      const { ctx } = fakeCtx('/events');
      const p = await refused(runMiddleware(make(), ctx));
      assert.equal(p.status, 401);
      assert.equal(p.headers['WWW-Authenticate'], 'Bearer');
    });

    it('refuses a token in the URL, valid or not, and says how to get a ticket', async () => {
      const p = await refused(runMiddleware(make(), fakeCtx('/events', { query: { token: token('ops', 'operator') } }).ctx));
      assert.equal(p.status, 401);
      assert.match(p.detail, /POST \/events\/ticket/);
    });

    it('issues a ticket only for a valid bearer token', async () => {
      const forged = mintClientToken('another-secret-another-secret-0000', { sub: 'eve', role: 'admin' });
      for (const bad of [forged, mintClientToken(SECRET, { sub: 'old', role: 'admin', ttlSec: -10 })]) {
        const { ctx } = fakeCtx('/events/ticket', { method: 'POST', authorization: `Bearer ${bad}` });
        assert.equal((await refused(runMiddleware(make(), ctx))).status, 401);
      }
      assert.equal((await refused(runMiddleware(make(), fakeCtx('/events/ticket', { method: 'POST' }).ctx))).status, 401);
    });

    it('opens an event stream for a ticket and greets with who bought it', async () => {
      const feed = make();
      const { ticket, expiresInSec } = await ticketFor(feed, token('ops', 'operator'));
      assert.ok(ticket.length >= 40 && expiresInSec > 0 && expiresInSec <= 30);
      const { ctx, res, raw } = fakeCtx('/events', { query: { ticket } });
      const { nextCalled } = await runMiddleware(feed, ctx);
      assert.equal(nextCalled, false);
      assert.equal(raw.respond, false, 'Koa must not answer on top of the stream');
      assert.equal(raw.status, 200);
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['Content-Type']), /^text\/event-stream/);
      assert.match(String(res.headers['Cache-Control']), /no-store/);
      assert.match(res.chunks[0]!, /^retry: \d+\n/);
      const [hello] = res.named('hello');
      assert.equal(hello.sub, 'ops');
      assert.deepEqual(hello.roles, ['operator']);
      assert.equal(hello.nodes, true);
      assert.equal(hello.tasks, 'all');
      assert.ok(hello.expiresAt, 'the stream still ends with the token');
      assert.equal(feed.clientCount, 1);
    });

    it('lets a ticket open one stream only', async () => {
      const feed = make();
      const { ticket } = await ticketFor(feed, token('ops', 'operator'));
      await runMiddleware(feed, fakeCtx('/events', { query: { ticket } }).ctx);
      const p = await refused(runMiddleware(feed, fakeCtx('/events', { query: { ticket } }).ctx));
      assert.equal(p.status, 401);
      assert.equal(feed.clientCount, 1);
    });

    it('refuses an expired ticket, an unknown one and a repeated parameter', async () => {
      let now = 1_000_000;
      const feed = make({ now: () => now, ticketTtlMs: 30_000 });
      const { ticket } = await ticketFor(feed, token('ops', 'operator'));
      now += 30_001;
      assert.equal((await refused(runMiddleware(feed, fakeCtx('/events', { query: { ticket } }).ctx))).status, 401);
      assert.equal((await refused(runMiddleware(feed, fakeCtx('/events', { query: { ticket: 'made-up' } }).ctx))).status, 401);
      const fresh = await ticketFor(feed, token('ops', 'operator'));
      assert.equal((await refused(runMiddleware(feed, fakeCtx('/events', { query: { ticket: [fresh.ticket, fresh.ticket] } }).ctx))).status, 401);
    });

    it('keeps the rights of the token that bought the ticket', async () => {
      const feed = make();
      const { ticket } = await ticketFor(feed, token('alice', 'submitter'));
      const { ctx, res } = fakeCtx('/events', { query: { ticket } });
      await runMiddleware(feed, ctx);
      assert.equal(res.named('hello')[0].sub, 'alice');
      assert.equal(res.named('hello')[0].tasks, 'own');
      assert.equal(res.named('hello')[0].nodes, false);
    });

    it('also accepts an Authorization header (clients other than EventSource)', async () => {
      const feed = make();
      const { ctx, res } = fakeCtx('/events', { authorization: `Bearer ${token('alice', 'submitter')}` });
      await runMiddleware(feed, ctx);
      assert.equal(res.named('hello')[0].tasks, 'own');
    });

    it('leaves every other path and method to the next middleware', async () => {
      const feed = make();
      assert.equal((await runMiddleware(feed, fakeCtx('/tasks').ctx)).nextCalled, true);
      assert.equal((await runMiddleware(feed, fakeCtx('/events', { method: 'POST' }).ctx)).nextCalled, true);
      assert.equal((await runMiddleware(feed, fakeCtx('/events/ticket').ctx)).nextCalled, true);
      assert.equal(feed.clientCount, 0);
    });

    it('answers 503 when the client limit is reached', async () => {
      const feed = make({ maxClients: 1 });
      await runMiddleware(feed, fakeCtx('/events', { authorization: `Bearer ${token('a', 'admin')}` }).ctx);
      const p = await refused(runMiddleware(feed, fakeCtx('/events', { authorization: `Bearer ${token('b', 'admin')}` }).ctx));
      assert.equal(p.status, 503);
      assert.equal(p.headers['Retry-After'], '5');
    });
  });

  describe('what each role receives', () => {
    it('sends every task to admin and operator, and only their own to submitter and viewer', () => {
      const feed = make();
      const sinks = {
        admin: new FakeSink(), operator: new FakeSink(), alice: new FakeSink(), bob: new FakeSink(),
      };
      feed.attach(caller('root', 'admin'), sinks.admin);
      feed.attach(caller('ops', 'operator'), sinks.operator);
      feed.attach(caller('alice', 'submitter'), sinks.alice);
      feed.attach(caller('bob', 'viewer'), sinks.bob);
      feed.publishTask({ id: 't1', status: 'succeeded', owner: 'alice' });
      feed.publishTask({ id: 't2', status: 'failed', owner: 'bob' });
      feed.publishTask({ id: 't3', status: 'cancelled', owner: 'carol' });
      const ids = (s: FakeSink) => s.named('task').map((t) => t.id);
      assert.deepEqual(ids(sinks.admin), ['t1', 't2', 't3']);
      assert.deepEqual(ids(sinks.operator), ['t1', 't2', 't3']);
      assert.deepEqual(ids(sinks.alice), ['t1']);
      assert.deepEqual(ids(sinks.bob), ['t2']);
    });

    it('gives the widest rights of several roles', () => {
      const feed = make();
      const s = new FakeSink();
      feed.attach(caller('mixed', 'viewer', 'operator'), s);
      feed.publishTask({ id: 't9', status: 'succeeded', owner: 'someone-else' });
      assert.deepEqual(s.named('task').map((t) => t.id), ['t9']);
    });

    it('sends node snapshots only to roles that may read nodes', () => {
      const feed = make();
      const ops = new FakeSink();
      const alice = new FakeSink();
      feed.attach(caller('ops', 'operator'), ops);
      feed.attach(caller('alice', 'submitter'), alice);
      feed.publishNodes([node('ki1')]);
      feed.flushNodes();
      assert.deepEqual(ops.named('nodes').map((n) => n.items.map((i: LiveNode) => i.id)), [['ki1']]);
      assert.deepEqual(alice.named('nodes'), []);
    });

    it('sends only the listed task fields, never payload or result', () => {
      const feed = make();
      const s = new FakeSink();
      feed.attach(caller('ops', 'operator'), s);
      const finishedAt = new Date('2026-02-03T04:05:06.000Z');
      feed.publishTask({ id: 't1', status: 'succeeded', owner: 'alice', attempts: 1, ki: 'ki1', finishedAt, payload: { secret: 1 }, result: 42 } as never);
      const [t] = s.named('task');
      assert.deepEqual(t, { id: 't1', status: 'succeeded', owner: 'alice', attempts: 1, ki: 'ki1', finishedAt: finishedAt.toISOString() });
      assert.deepEqual(toLiveTask({ id: 'x', status: 'queued', owner: 'o' }), { id: 'x', status: 'queued', owner: 'o' });
    });

    it('sends the current snapshot at once to a client that connects later', () => {
      const feed = make();
      feed.publishNodes(() => [node('ki1'), node('ki2', 'dead')]);
      const s = new FakeSink();
      feed.attach(caller('ops', 'operator'), s);
      assert.deepEqual(s.named('nodes')[0].items.map((n: LiveNode) => `${n.id}:${n.status}`), ['ki1:alive', 'ki2:dead']);
    });
  });

  describe('node snapshot throttling', () => {
    it('builds a lazy snapshot only when someone watches, and once per flush however often it is offered', () => {
      const feed = make();
      let built = 0;
      const source = () => { built++; return [node('ki1')]; };
      feed.publishNodes(source);
      feed.publishNodes(source);
      feed.flushNodes();
      assert.equal(built, 0, 'nobody watches: nothing is built');
      const s = new FakeSink();
      feed.attach(caller('ops', 'operator'), s);
      assert.equal(built, 1, 'the greeting snapshot');
      for (let i = 0; i < 10; i++) feed.publishNodes(source);
      feed.flushNodes();
      assert.equal(built, 2);
    });

    it('skips a snapshot in which only lastSeen moved, until the quiet period has passed', () => {
      let now = 1_000_000;
      const feed = make({ now: () => now, nodesMaxQuietMs: 10_000 });
      const s = new FakeSink();
      feed.attach(caller('ops', 'operator'), s);
      feed.publishNodes([node('ki1', 'alive', '2026-01-01T00:00:01.000Z')]);
      feed.flushNodes();
      feed.publishNodes([node('ki1', 'alive', '2026-01-01T00:00:02.000Z')]);
      feed.flushNodes();
      assert.equal(s.named('nodes').length, 1, 'same picture, newer lastSeen: not sent');
      feed.publishNodes([node('ki1', 'dead', '2026-01-01T00:00:02.000Z')]);
      feed.flushNodes();
      assert.equal(s.named('nodes').length, 2, 'a status change is sent');
      now += 10_001;
      feed.publishNodes([node('ki1', 'dead', '2026-01-01T00:00:12.000Z')]);
      feed.flushNodes();
      assert.equal(s.named('nodes').length, 3, 'after the quiet period the snapshot is refreshed');
    });

    it('sends the first snapshot without waiting for the interval (leading edge)', async () => {
      const feed = make({ nodesIntervalMs: 60_000 });
      const s = new FakeSink();
      feed.attach(caller('ops', 'operator'), s);
      const written = new Promise<void>((resolve) => {
        const write = s.write.bind(s);
        s.write = (chunk: string) => { const ok = write(chunk); if (chunk.startsWith('event: nodes')) resolve(); return ok; };
      });
      feed.publishNodes([node('ki1')]);
      await written;
      assert.equal(s.named('nodes').length, 1);
    });
  });

  describe('bounded per-client buffer', () => {
    it('queues while the socket is full and writes the queue in order on drain', () => {
      const feed = make();
      const s = new FakeSink();
      feed.attach(caller('ops', 'operator'), s);
      s.accept = false;
      feed.publishTask({ id: 't1', status: 'succeeded', owner: 'a' }); // written, but the socket is now full
      feed.publishTask({ id: 't2', status: 'succeeded', owner: 'a' });
      feed.publishTask({ id: 't3', status: 'succeeded', owner: 'a' });
      assert.deepEqual(s.named('task').map((t) => t.id), ['t1']);
      s.drain();
      assert.deepEqual(s.named('task').map((t) => t.id), ['t1', 't2', 't3']);
    });

    it('replaces what a slow client missed by one resync event when the queue overflows', () => {
      const feed = make({ maxQueuedEvents: 5 });
      const s = new FakeSink();
      feed.attach(caller('ops', 'operator'), s);
      s.accept = false;
      feed.publishTask({ id: 'first', status: 'succeeded', owner: 'a' });
      for (let i = 0; i < 20; i++) feed.publishTask({ id: `t${i}`, status: 'succeeded', owner: 'a' });
      assert.ok(feed.stats().dropped > 0);
      s.drain();
      const after = s.events().map((e) => e.event);
      assert.ok(after.includes('resync'), `a resync event follows: ${after.join(',')}`);
      // Never more than the bound was held: at most 5 events after the one that filled the socket.
      const sinceFirst = s.events().slice(s.events().findIndex((e) => e.data?.id === 'first') + 1);
      assert.ok(sinceFirst.length <= 5, `held ${sinceFirst.length}`);
      assert.equal(sinceFirst[0]?.event, 'resync');
    });

    it('bounds the queue by bytes as well', () => {
      const feed = make({ maxQueuedEvents: 10_000, maxQueuedBytes: 2_000 });
      const s = new FakeSink();
      feed.attach(caller('ops', 'operator'), s);
      s.accept = false;
      feed.publishTask({ id: 'first', status: 'succeeded', owner: 'a' });
      for (let i = 0; i < 200; i++) feed.publishTask({ id: `task-${i}-${'x'.repeat(40)}`, status: 'succeeded', owner: 'a' });
      s.drain();
      const bytesAfterFirst = s.chunks.slice(s.chunks.findIndex((c) => c.includes('"first"')) + 1).join('').length;
      assert.ok(bytesAfterFirst <= 2_000, `held ${bytesAfterFirst} bytes`);
      assert.ok(s.named('resync').length >= 1);
    });

    it('keeps only the newest node snapshot in the queue', () => {
      const feed = make();
      const s = new FakeSink();
      feed.attach(caller('ops', 'operator'), s);
      s.accept = false;
      feed.publishTask({ id: 'fill', status: 'succeeded', owner: 'a' });
      for (const status of ['alive', 'suspect', 'dead']) {
        feed.publishNodes([node('ki1', status)]);
        feed.flushNodes();
      }
      s.drain();
      assert.deepEqual(s.named('nodes').map((n) => n.items[0].status), ['dead']);
    });

    it('disconnects a client that has taken nothing for two heartbeats', () => {
      let now = 0;
      const feed = make({ now: () => now, heartbeatMs: 15_000 });
      const slow = new FakeSink();
      const fine = new FakeSink();
      feed.attach(caller('slow', 'operator'), slow);
      feed.attach(caller('fine', 'operator'), fine);
      slow.accept = false;
      feed.publishTask({ id: 't1', status: 'succeeded', owner: 'a' });
      now += 15_000;
      feed.heartbeat();
      assert.equal(slow.ended, false);
      now += 15_000;
      feed.heartbeat();
      assert.equal(slow.ended, true);
      assert.equal(fine.ended, false);
      assert.equal(feed.clientCount, 1);
      assert.equal(feed.stats().evicted, 1);
      assert.ok(fine.chunks.some((c) => c.startsWith(': ping')), 'the others get keep-alive comments');
    });
  });

  describe('cleanup', () => {
    it('forgets a client when its connection closes and writes nothing to it afterwards', () => {
      const feed = make();
      const s = new FakeSink();
      feed.attach(caller('ops', 'operator'), s);
      assert.equal(feed.clientCount, 1);
      s.emit('close');
      assert.equal(feed.clientCount, 0);
      const before = s.chunks.length;
      feed.publishTask({ id: 't1', status: 'succeeded', owner: 'a' });
      feed.publishNodes([node('ki1')]);
      feed.flushNodes();
      feed.heartbeat();
      assert.equal(s.chunks.length, before);
    });

    it('ends every stream on close() and refuses new ones with 503', async () => {
      const feed = make();
      const a = new FakeSink();
      const b = new FakeSink();
      feed.attach(caller('a', 'admin'), a);
      feed.attach(caller('b', 'viewer'), b);
      feed.close();
      assert.ok(a.ended && b.ended);
      assert.equal(feed.clientCount, 0);
      const p = await refused(runMiddleware(feed, fakeCtx('/events', { authorization: `Bearer ${token('c', 'admin')}` }).ctx));
      assert.equal(p.status, 503);
    });

    it('the function returned by attach() ends that stream only', () => {
      const feed = make();
      const a = new FakeSink();
      const b = new FakeSink();
      const closeA = feed.attach(caller('a', 'admin'), a);
      feed.attach(caller('b', 'admin'), b);
      closeA();
      closeA();
      assert.equal(a.ended, true);
      assert.equal(b.ended, false);
      assert.equal(feed.clientCount, 1);
    });

    it('ends the stream with an expired event when the token expires', async () => {
      const feed = make();
      const s = new FakeSink();
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      feed.attach(caller('ops', 'operator'), s, Date.now() + 20);
      await closed;
      assert.deepEqual(s.named('expired'), [{ reason: 'token expired' }]);
      assert.equal(feed.clientCount, 0);
    });

    it('ends the stream when writing to it throws', () => {
      const feed = make();
      const s = new FakeSink();
      feed.attach(caller('ops', 'operator'), s);
      s.write = () => { throw new Error('write after end'); };
      feed.publishTask({ id: 't1', status: 'succeeded', owner: 'a' });
      assert.equal(feed.clientCount, 0);
    });
  });
});
