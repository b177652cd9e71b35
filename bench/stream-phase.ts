import { roundSummary, summarize, type Summary } from './stats';

/** What the stream phase runs: `streams` tasks at once, each emitting `tokens` chunks `gapMs` apart. */
export interface StreamPlan {
  streams: number;
  tokens: number;
  gapMs: number;
  timeoutMs: number;
}

export interface StreamResult {
  streams: number;
  /** Streams that ended with the task's end event. */
  completed: number;
  chunksExpected: number;
  chunksReceived: number;
  /** POST /tasks sent → first chunk at the client: the admission, dispatch and start of the task, then one chunk's trip. */
  timeToFirstChunkMs: Summary;
  /** Each chunk, ctx.emit on the Ki → the client (same machine clock): Ki gathering, An relay, principal, SSE. */
  chunkLatencyMs: Summary;
  /** Last chunk at the client → the end event (the result stored and announced). */
  lastChunkToEndMs: Summary;
  errors: string[];
}

/** Reads one SSE stream to its end, handing each event on. */
async function follow(url: string, token: string, signal: AbortSignal, onEvent: (event: string, data: string) => void): Promise<void> {
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal });
  if (r.status !== 200 || !r.body) throw new Error(`stream answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const part of r.body) {
    buffer += decoder.decode(part as Uint8Array, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (event) onEvent(event, data);
    }
  }
}

/**
 * Opens `streams` output streams at once: each client submits a `bench-tokens` task, follows
 * `GET /tasks/{id}/stream` on the next principal and times its first chunk, every chunk from the
 * Ki's emit, and the end.
 */
export async function runStreamPhase(plan: StreamPlan, urls: readonly string[], token: string, signal: AbortSignal): Promise<StreamResult> {
  const ttfc: number[] = [];
  const latency: number[] = [];
  const tail: number[] = [];
  const errors: string[] = [];
  let completed = 0;
  let received = 0;
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(plan.timeoutMs)]);
  await Promise.all(Array.from({ length: plan.streams }, async (_, i) => {
    const base = urls[i % urls.length]!;
    const sentAt = Date.now();
    try {
      const posted = await fetch(`${base}/tasks`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'bench-tokens', payload: { tokens: plan.tokens, gapMs: plan.gapMs } }), signal: deadline,
      });
      const { id } = (await posted.json()) as { id?: string };
      if (posted.status !== 201 || !id) throw new Error(`POST /tasks answered ${posted.status}`);
      let first = true;
      let lastChunkAt = 0;
      await follow(`${base}/tasks/${id}/stream`, token, deadline, (event, data) => {
        const now = Date.now();
        if (event === 'chunk') {
          received++;
          lastChunkAt = now;
          if (first) { ttfc.push(now - sentAt); first = false; }
          const { t } = JSON.parse((JSON.parse(data) as { text: string }).text) as { t: number };
          latency.push(now - t);
        } else if (event === 'end') {
          completed++;
          if (lastChunkAt) tail.push(now - lastChunkAt);
        }
      });
    } catch (err) {
      if (errors.length < 10) errors.push((err as Error).message);
    }
  }));
  return {
    streams: plan.streams, completed, chunksExpected: plan.streams * plan.tokens, chunksReceived: received,
    timeToFirstChunkMs: roundSummary(summarize(ttfc)), chunkLatencyMs: roundSummary(summarize(latency)), lastChunkToEndMs: roundSummary(summarize(tail)), errors,
  };
}
