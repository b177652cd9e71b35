import { Pool } from 'undici';

export interface RestAnswer {
  status: number;
  body: string;
}

/**
 * A JSON-over-HTTP client with keep-alive connection pools (undici: it costs about half the CPU of
 * node:http per request, and the client shares the two cores with the cluster it measures),
 * spreading requests over the principals' base URLs in turn. A transport error comes back as
 * status 0 (body = the message) instead of throwing, so a load loop counts it and goes on.
 */
export class RestClient {
  readonly #pools: Pool[];
  readonly #headers: Record<string, string>;
  #next = 0;

  constructor(baseUrls: readonly string[], token: string, maxSockets: number, private readonly timeoutMs = 30_000) {
    if (baseUrls.length === 0) throw new Error('no principal URL');
    this.#pools = baseUrls.map((u) => new Pool(u, { connections: maxSockets, pipelining: 1, keepAliveTimeout: 60_000 }));
    this.#headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  }

  async post(path: string, body: unknown): Promise<RestAnswer> {
    const pool = this.#pools[this.#next++ % this.#pools.length]!;
    try {
      const res = await pool.request({ path, method: 'POST', headers: this.#headers, body: JSON.stringify(body), headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
      return { status: res.statusCode, body: await res.body.text() };
    } catch (err) {
      return { status: 0, body: (err as Error).message };
    }
  }

  async get(path: string): Promise<RestAnswer> {
    const pool = this.#pools[this.#next++ % this.#pools.length]!;
    try {
      const res = await pool.request({ path, method: 'GET', headers: this.#headers, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
      return { status: res.statusCode, body: await res.body.text() };
    } catch (err) {
      return { status: 0, body: (err as Error).message };
    }
  }

  close(): void {
    for (const p of this.#pools) void p.destroy();
  }
}

/** Counts answers by HTTP status and keeps a few bodies of the unexpected ones. */
export class AnswerTally {
  readonly byStatus: Record<string, number> = {};
  readonly samples: string[] = [];

  add(a: RestAnswer, expected = 201): void {
    this.byStatus[a.status] = (this.byStatus[a.status] ?? 0) + 1;
    if (a.status !== expected && this.samples.length < 5) this.samples.push(`${a.status}: ${a.body.slice(0, 300)}`);
  }

  unexpected(expected = 201): number {
    return Object.entries(this.byStatus).reduce((s, [k, v]) => (k === String(expected) ? s : s + v), 0);
  }
}
