import { rightsOf, type Caller, type ClientRights } from '../security';
import { frame, type Frame } from './live-feed-frames';

/** The part of a ServerResponse the feed writes to; unit tests pass a fake. */
export interface EventSink {
  write(chunk: string): boolean;
  end(): void;
  once(event: 'drain' | 'close', listener: () => void): unknown;
}

/** What one slow client may hold before what it missed is replaced by a `resync`. */
export interface QueueLimits {
  maxQueuedEvents: number;
  maxQueuedBytes: number;
}

/**
 * One open event stream: writes while its socket takes them, queues (bounded) while it does not,
 * and flushes the queue on `drain`.
 */
export class FeedClient {
  readonly rights: ClientRights;
  queue: Frame[] = [];
  queuedBytes = 0;
  /** Since when the socket has refused writes (undefined: it takes them). */
  blockedSinceMs: number | undefined;
  closed = false;
  expiryTimer: NodeJS.Timeout | undefined;

  /**
   * @param end - ends this stream (the feed forgets it and closes the sink); called when a write throws.
   */
  constructor(readonly caller: Caller, readonly sink: EventSink, private readonly limits: QueueLimits, private readonly now: () => number, private readonly end: (c: FeedClient) => void) {
    this.rights = rightsOf(caller.roles);
  }

  mayRead(task: { owner: string }): boolean {
    return this.rights.readTasks === 'all' || (this.rights.readTasks === 'own' && task.owner === this.caller.sub);
  }

  /** Writes now, or queues while the socket is full. Returns how many events were dropped for a `resync`. */
  send(f: Frame): number {
    if (this.closed) return 0;
    if (this.blockedSinceMs === undefined) { this.write(f); return 0; }
    // A newer snapshot makes a queued one worthless.
    if (f.kind === 'nodes' && this.queue.some((q) => q.kind === 'nodes')) {
      this.queue = this.queue.filter((q) => q.kind !== 'nodes');
      this.queuedBytes = this.queue.reduce((n, q) => n + q.text.length, 0);
    }
    if (this.queue.length + 1 > this.limits.maxQueuedEvents || this.queuedBytes + f.text.length > this.limits.maxQueuedBytes) {
      // The reader cannot keep up: what it missed is replaced by one instruction to reload.
      const dropped = this.queue.filter((q) => q.kind !== 'control').length + 1;
      const resync = frame('control', 'resync', { reason: 'overflow' });
      this.queue = [resync];
      this.queuedBytes = resync.text.length;
      return dropped;
    }
    this.queue.push(f);
    this.queuedBytes += f.text.length;
    return 0;
  }

  /** Writes to the socket now; a refused write marks the client blocked until `drain`. */
  write(f: Frame): void {
    let ok: boolean;
    try {
      ok = this.sink.write(f.text);
    } catch {
      this.end(this);
      return;
    }
    if (!ok && this.blockedSinceMs === undefined) {
      this.blockedSinceMs = this.now();
      this.sink.once('drain', () => this.#drain());
    }
  }

  /** Drops the queue and the expiry timer: nothing of a closed client outlives it. */
  forget(): void {
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
  }

  #drain(): void {
    if (this.closed) return;
    this.blockedSinceMs = undefined;
    while (this.queue.length > 0 && this.blockedSinceMs === undefined) {
      const f = this.queue.shift()!;
      this.queuedBytes -= f.text.length;
      this.write(f);
    }
  }
}
