/** A response body read up to a bound. */
export interface BoundedBody {
  /** Parsed JSON when the response says JSON and arrived whole, else the text. */
  body: unknown;
  truncated: boolean;
}

/**
 * Reads at most `maxBytes` of a response and stops the download there: an endpoint that
 * streams without end must not exhaust the Ki's memory.
 */
export async function readBoundedBody(response: Response, maxBytes: number): Promise<BoundedBody> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let truncated = false;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      const value = next.value as Uint8Array;
      const room = maxBytes - bytes;
      if (value.length > room) {
        chunks.push(value.subarray(0, room));
        bytes += room;
        truncated = true;
        await reader.cancel().catch(() => undefined);
        break;
      }
      chunks.push(value);
      bytes += value.length;
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const isJson = /[/+]json\b/i.test(response.headers.get('content-type') ?? '');
  if (isJson && !truncated && text.trim() !== '') {
    try {
      return { body: JSON.parse(text) as unknown, truncated };
    } catch {
      // A server that labels non-JSON as JSON still gets its text through.
    }
  }
  return { body: text, truncated };
}
