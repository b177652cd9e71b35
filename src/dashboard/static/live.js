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
    else this.#connect();
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

  #connect() {
    if (this.#stopped) return;
    const es = new EventSource(`/events?token=${encodeURIComponent(this.o.token)}`);
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
        // Refused (401, 503, a proxy that does not stream): poll, and try the stream again later.
        this.#es = null;
        this.#startPolling();
        clearTimeout(this.#retryTimer);
        this.#retryTimer = setTimeout(() => this.#connect(), SSE_RETRY_AFTER_REFUSAL_MS);
      } else if (this.#failures >= 2) {
        // The browser keeps reconnecting; keep the picture fresh meanwhile.
        this.#startPolling();
      } else {
        this.#setMode('connecting');
      }
    });
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
