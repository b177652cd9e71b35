/** One Server-Sent Event as a test reads it. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Opens a Server-Sent Events stream and hands each event to `onEvent` as it arrives (comments are
 * skipped). Resolves with the answer's status and every event once the server ends the stream;
 * an answer other than 200 resolves at once with its body as `error`.
 */
export async function readSse(url: string, token: string, onEvent: (e: SseEvent) => void | Promise<void> = () => undefined): Promise<{ status: number; events: SseEvent[]; error?: string }> {
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: AbortSignal.timeout(60_000) });
  if (r.status !== 200 || !r.body) return { status: r.status, events: [], error: await r.text() };
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const part of r.body) {
    buffer += decoder.decode(part as Uint8Array, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split('\n').filter((l) => !l.startsWith(':'));
      if (lines.length === 0) continue;
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      const e = { event, data };
      events.push(e);
      await onEvent(e);
    }
  }
  return { status: r.status, events };
}
