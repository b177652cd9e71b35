import type { ServerResponse } from 'node:http';
import type Koa from 'koa';
import { unavailable } from '../http';
import type { Caller } from '../security';
import { issueStreamTicket, streamGrantOf } from './live-feed-auth';
import { FeedClient, type EventSink } from './live-feed-client';
import { resolveLiveFeedOptions, type LiveFeedOptions, type ResolvedOptions } from './live-feed-options';
import { frame, signatureOf, toLiveTask, type Frame, type LiveNode, type LiveTaskInput } from './live-feed-frames';
import { StreamTickets } from './stream-tickets';

export type { EventSink } from './live-feed-client';
export { toLiveTask, type LiveNode, type LiveTaskInput } from './live-feed-frames';
export type { LiveFeedOptions } from './live-feed-options';

/** Longest delay setTimeout honours; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Server-sent events for the dashboard (`GET /events?ticket=<one-use ticket>`): `nodes` snapshots
 * (at most one per `nodesIntervalMs`, only to callers who may read nodes) and `task` updates (admin
 * and operator get all, submitter and viewer only their own tasks). EventSource cannot send an
 * Authorization header, so the page first trades its token for a short-lived ticket
 * (`POST /events/ticket`) and puts only that in the URL; the stream ends with an `expired` event
 * when the token the ticket was bought with does.
 *
 * A client whose socket stops taking writes gets a bounded queue: on overflow what it has not
 * received is dropped for one `resync` event (the page then reloads its lists), and a client blocked
 * for two heartbeats is disconnected (its EventSource reconnects).
 */
export class LiveFeed {
  readonly #o: ResolvedOptions;
  readonly #clients = new Set<FeedClient>();
  #nodesSource: readonly LiveNode[] | (() => readonly LiveNode[]) | undefined;
  #nodesDirty = false;
  #nodesTimer: NodeJS.Timeout | undefined;
  #lastNodesSentMs = Number.NEGATIVE_INFINITY;
  #lastNodesSignature = '';
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #tickets: StreamTickets;
  #dropped = 0;
  #evicted = 0;

  constructor(options: LiveFeedOptions) {
    this.#o = resolveLiveFeedOptions(options);
    this.#tickets = new StreamTickets({ ttlMs: options.ticketTtlMs ?? 30_000, now: this.#o.now });
  }

  /** Open event streams. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** Counters for tests and logs: streams open, events dropped on overflow, slow clients disconnected. */
  stats(): { clients: number; dropped: number; evicted: number } {
    return { clients: this.#clients.size, dropped: this.#dropped, evicted: this.#evicted };
  }

  /** Sends a task change to every client that may read the task. */
  publishTask(task: LiveTaskInput): void {
    if (this.#clients.size === 0) return;
    const f = frame('task', 'task', toLiveTask(task));
    for (const c of this.#clients) if (c.mayRead(task)) this.#send(c, f);
  }

  /**
   * Offers the current membership. Pass a function to have the snapshot built only when it is sent
   * (at most once per `nodesIntervalMs`, and not at all while nobody is watching).
   */
  publishNodes(nodes: readonly LiveNode[] | (() => readonly LiveNode[])): void {
    this.#nodesSource = nodes;
    this.#nodesDirty = true;
    this.#scheduleNodes();
  }

  /**
   * The Koa middleware answering `POST <path>/ticket` (a one-use stream ticket for a bearer token)
   * and `GET <path>`; everything else goes to `next`. Mount it before auth.
   */
  middleware(): Koa.Middleware {
    return async (ctx, next) => {
      if (ctx.path === `${this.#o.path}/ticket` && ctx.method === 'POST') { await issueStreamTicket(ctx, this.#o.verifier, this.#tickets); return; }
      if (ctx.path !== this.#o.path || ctx.method !== 'GET') { await next(); return; }
      const { caller, tokenExpiresAtMs } = await streamGrantOf(ctx, this.#o.verifier, this.#tickets, this.#o.path);
      if (this.#closed) throw unavailable('this principal is shutting down', 1);
      if (this.#clients.size >= this.#o.maxClients) throw unavailable('too many live connections to this principal', 5);

      // Koa must neither answer nor let the 404 check fire: the stream is ours from here on.
      ctx.status = 200;
      ctx.respond = false;
      const res: ServerResponse = ctx.res;
      ctx.req.socket?.setTimeout(0);
      ctx.req.socket?.setNoDelay(true);
      ctx.req.socket?.setKeepAlive(true);
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store, no-transform',
        Connection: 'keep-alive',
        // nginx and similar proxies would otherwise buffer the stream.
        'X-Accel-Buffering': 'no',
      });
      this.attach(caller, res, tokenExpiresAtMs);
    };
  }

  /**
   * Registers an open stream and sends its greeting (and the current snapshot when it may read
   * nodes). Returns a function that closes it.
   * @internal the middleware's second half, called directly by unit tests.
   */
  attach(caller: Caller, sink: EventSink, expiresAtMs?: number): () => void {
    const c = new FeedClient(caller, sink, this.#o, this.#o.now, (client) => this.#end(client));
    this.#clients.add(c);
    sink.once('close', () => this.#detach(c));
    this.#send(c, { kind: 'control', text: `retry: ${this.#o.retryMs}\n: an-ki live feed\n\n` });
    this.#send(c, frame('control', 'hello', {
      sub: caller.sub, roles: caller.roles, nodes: c.rights.readNodes, tasks: c.rights.readTasks,
      ...(expiresAtMs !== undefined ? { expiresAt: new Date(expiresAtMs).toISOString() } : {}),
    }));
    if (c.rights.readNodes && this.#nodesSource) this.#send(c, frame('nodes', 'nodes', this.#snapshot(this.#resolveNodes())));
    if (expiresAtMs !== undefined) {
      c.expiryTimer = setTimeout(() => {
        this.#send(c, frame('control', 'expired', { reason: 'token expired' }));
        this.#end(c);
      }, Math.min(MAX_TIMER_MS, Math.max(0, expiresAtMs - this.#o.now())));
      c.expiryTimer.unref();
    }
    this.#startHeartbeat();
    if (this.#nodesDirty) this.#scheduleNodes();
    this.#o.log?.debug({ sub: caller.sub, clients: this.#clients.size }, 'live feed client connected');
    return () => this.#end(c);
  }

  /**
   * Sends the pending snapshot now if it differs from the last one sent (or that one is older than
   * `nodesMaxQuietMs`).
   * @internal the throttle timer's work; unit tests call it instead of waiting.
   */
  flushNodes(): void {
    if (this.#nodesTimer) { clearTimeout(this.#nodesTimer); this.#nodesTimer = undefined; }
    if (!this.#nodesDirty || !this.#nodesSource) return;
    const watchers = [...this.#clients].filter((c) => c.rights.readNodes);
    if (watchers.length === 0) return; // stays dirty: the next watcher gets a fresh snapshot on connect
    this.#nodesDirty = false;
    const items = this.#resolveNodes();
    const signature = signatureOf(items);
    const now = this.#o.now();
    if (signature === this.#lastNodesSignature && now - this.#lastNodesSentMs < this.#o.nodesMaxQuietMs) return;
    this.#lastNodesSignature = signature;
    this.#lastNodesSentMs = now;
    const f = frame('nodes', 'nodes', this.#snapshot(items));
    for (const c of watchers) this.#send(c, f);
  }

  /**
   * Writes a keep-alive comment to every client and disconnects those blocked for two periods.
   * @internal the heartbeat timer's work; unit tests call it instead of waiting.
   */
  heartbeat(): void {
    const now = this.#o.now();
    for (const c of this.#clients) {
      if (c.blockedSinceMs === undefined) {
        c.write({ kind: 'control', text: `: ping ${new Date(now).toISOString()}\n\n` });
      } else if (now - c.blockedSinceMs >= 2 * this.#o.heartbeatMs) {
        // Nothing written for this long: a stalled reader or a half-open socket. Its EventSource
        // reconnects and starts again from fresh lists.
        this.#evicted++;
        this.#o.log?.info({ sub: c.caller.sub, queued: c.queue.length }, 'live feed client stalled; disconnected');
        this.#end(c);
      }
    }
  }

  /** Ends every stream and refuses new ones. Call before closing the HTTP server, whose close waits for open responses. */
  close(): void {
    this.#closed = true;
    for (const c of [...this.#clients]) this.#end(c);
    if (this.#nodesTimer) clearTimeout(this.#nodesTimer);
    this.#nodesTimer = undefined;
    this.#stopHeartbeat();
  }

  #resolveNodes(): readonly LiveNode[] {
    const src = this.#nodesSource;
    return typeof src === 'function' ? src() : (src ?? []);
  }

  #snapshot(items: readonly LiveNode[]) {
    return { items, at: new Date(this.#o.now()).toISOString() };
  }

  #scheduleNodes(): void {
    if (this.#nodesTimer || this.#closed) return;
    if (![...this.#clients].some((c) => c.rights.readNodes)) return;
    const waitMs = Math.max(0, this.#lastNodesSentMs + this.#o.nodesIntervalMs - this.#o.now());
    this.#nodesTimer = setTimeout(() => { this.#nodesTimer = undefined; this.flushNodes(); }, Math.min(waitMs, this.#o.nodesIntervalMs));
    this.#nodesTimer.unref();
  }

  #send(c: FeedClient, f: Frame): void {
    this.#dropped += c.send(f);
  }

  #end(c: FeedClient): void {
    if (c.closed) return;
    this.#detach(c);
    try { c.sink.end(); } catch { /* the socket is already gone */ }
  }

  /** Forgets a client (its socket closed or we ended it): no timer or queue outlives it. */
  #detach(c: FeedClient): void {
    if (c.closed) return;
    c.forget();
    this.#clients.delete(c);
    if (this.#clients.size === 0) {
      this.#stopHeartbeat();
      if (this.#nodesTimer) { clearTimeout(this.#nodesTimer); this.#nodesTimer = undefined; }
    }
    this.#o.log?.debug({ sub: c.caller.sub, clients: this.#clients.size }, 'live feed client closed');
  }

  #startHeartbeat(): void {
    if (this.#heartbeatTimer) return;
    this.#heartbeatTimer = setInterval(() => this.heartbeat(), this.#o.heartbeatMs);
    this.#heartbeatTimer.unref();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
  }
}
