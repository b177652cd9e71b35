import http from 'node:http';

export interface RestAnswer {
  status: number;
  body: string;
}

/**
 * A minimal JSON-over-HTTP client on node:http with keep-alive, spreading requests over the
 * principals' base URLs in turn. A transport error comes back as status 0 (body = the message)
 * instead of throwing, so a load loop counts it and goes on.
 */
export class RestClient {
  readonly #pool: http.Agent;
  readonly #targets: URL[];
  #next = 0;

  constructor(baseUrls: readonly string[], private readonly token: string, maxSockets: number, private readonly timeoutMs = 30_000) {
    if (baseUrls.length === 0) throw new Error('no principal URL');
    this.#targets = baseUrls.map((u) => new URL(u));
    this.#pool = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  post(path: string, body: unknown): Promise<RestAnswer> {
    const target = this.#targets[this.#next++ % this.#targets.length]!;
    const data = Buffer.from(JSON.stringify(body));
    return new Promise<RestAnswer>((resolve) => {
      const req = http.request({
        agent: this.#pool, host: target.hostname, port: target.port, path, method: 'POST', timeout: this.timeoutMs,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', 'content-length': data.length },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => resolve({ status: 0, body: err.message }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) => resolve({ status: 0, body: err.message }));
      req.end(data);
    });
  }

  close(): void {
    this.#pool.destroy();
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
