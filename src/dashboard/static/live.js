// Live updates: server-sent events from /events, with polling of /nodes as the fallback.

const POLL_MS = 2000;
const SSE_RETRY_AFTER_REFUSAL_MS = 15_000;

/**
 * Calls `onNodes(items)`, `onTask(update)`, `onResync()` (reload lists: events may have been
 * missed), `onExpired()` and `onMode('live' | 'polling' | 'connecting' | 'offline')`.
 */
export class LiveUpdates {
  #es = null;
  #pollTimer = null;
  #retryTimer = null;
  #failures = 0;
  #stopped = false;
  #mode = '';

  constructor(options) {
    this.o = options;
  }

  start() {
    this.#stopped = false;
    if (typeof EventSource === 'undefined') this.#startPolling();
    else void this.#connect();
  }

  stop() {
    this.#stopped = true;
    this.#es?.close();
    this.#es = null;
    this.#stopPolling();
    clearTimeout(this.#retryTimer);
  }

  get mode() {
    return this.#mode;
  }

  #setMode(mode) {
    if (mode === this.#mode) return;
    this.#mode = mode;
    this.o.onMode?.(mode);
  }

  async #connect() {
    if (this.#stopped) return;
    // The URL carries a one-use ticket that lives seconds, never the token: URLs end up in proxy
    // logs, browser history and traces.
    let ticket;
    try {
      ({ ticket } = await this.o.api.post('/events/ticket'));
    } catch {
      this.#refused();
      return;
    }
    if (this.#stopped) return;
    const es = new EventSource(`/events?ticket=${encodeURIComponent(ticket)}`);
    this.#es = es;
    const data = (e) => { try { return JSON.parse(e.data); } catch { return null; } };
    es.addEventListener('open', () => {
      this.#failures = 0;
      this.#stopPolling();
      this.#setMode('live');
      this.o.onResync?.();
    });
    es.addEventListener('nodes', (e) => { const d = data(e); if (d) this.o.onNodes?.(d.items, d.at); });
    es.addEventListener('task', (e) => { const d = data(e); if (d) this.o.onTask?.(d); });
    es.addEventListener('resync', () => this.o.onResync?.());
    es.addEventListener('expired', () => { this.stop(); this.o.onExpired?.(); });
    es.addEventListener('error', () => {
      if (this.#stopped) return;
      this.#failures++;
      if (es.readyState === EventSource.CLOSED) {
        this.#es = null;
        this.#refused();
      } else {
        // The browser would reconnect with the same, used ticket: start again with a fresh one.
        es.close();
        this.#es = null;
        if (this.#failures >= 2) this.#startPolling(); else this.#setMode('connecting');
        clearTimeout(this.#retryTimer);
        this.#retryTimer = setTimeout(() => void this.#connect(), Math.min(this.#failures, 5) * 1000);
      }
    });
  }

  /** Refused (401, 503, a proxy that does not stream): poll, and try the stream again later. */
  #refused() {
    this.#startPolling();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#connect(), SSE_RETRY_AFTER_REFUSAL_MS);
  }

  #startPolling() {
    this.#setMode('polling');
    if (this.#pollTimer) return;
    const poll = async () => {
      if (document.hidden) return;
      try {
        if (this.o.canReadNodes()) {
          const r = await this.o.api.get('/nodes');
          this.o.onNodes?.(r.items, new Date().toISOString());
        }
        this.o.onPoll?.();
        if (this.#pollTimer) this.#setMode('polling');
      } catch (err) {
        if (err.status === 0) this.#setMode('offline');
      }
    };
    void poll();
    this.#pollTimer = setInterval(poll, POLL_MS);
  }

  #stopPolling() {
    clearInterval(this.#pollTimer);
    this.#pollTimer = null;
  }
}
