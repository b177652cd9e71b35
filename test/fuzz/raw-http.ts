import { connect } from 'node:net';

/**
 * A minimal HTTP/1.1 client over a plain socket, for tests that need control of every byte of a
 * request (header values with control or non-ASCII bytes, bodies that are not valid UTF-8, a
 * Content-Length that does not match the body), which node:http and fetch refuse to send.
 * Every request uses its own connection with `Connection: close`.
 */

export type HeaderValue = string | Buffer;

export interface RawRequest {
  method: string;
  /** Sent as is: percent-encode what must be encoded. */
  path: string;
  headers?: ReadonlyArray<readonly [string, HeaderValue]>;
  body?: Buffer;
  /** Send the body with `Transfer-Encoding: chunked` instead of a Content-Length. */
  chunked?: boolean;
  /** Content-Length to declare instead of the body's length. */
  declaredLength?: number;
}

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/** The bytes of a request: request line, headers, blank line, body. */
export function encodeRequest(r: RawRequest, host: string): Buffer {
  const lines: Buffer[] = [Buffer.from(`${r.method} ${r.path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n`, 'latin1')];
  for (const [name, value] of r.headers ?? []) {
    lines.push(Buffer.concat([Buffer.from(`${name}: `, 'latin1'), typeof value === 'string' ? Buffer.from(value, 'latin1') : value, Buffer.from('\r\n', 'latin1')]));
  }
  const body = r.body ?? Buffer.alloc(0);
  if (r.chunked) {
    lines.push(Buffer.from('Transfer-Encoding: chunked\r\n\r\n', 'latin1'));
    const chunkSize = 8192;
    for (let i = 0; i < body.length; i += chunkSize) {
      const part = body.subarray(i, i + chunkSize);
      lines.push(Buffer.from(`${part.length.toString(16)}\r\n`, 'latin1'), part, Buffer.from('\r\n', 'latin1'));
    }
    lines.push(Buffer.from('0\r\n\r\n', 'latin1'));
  } else {
    const length = r.declaredLength ?? body.length;
    if (r.body !== undefined || r.declaredLength !== undefined) lines.push(Buffer.from(`Content-Length: ${length}\r\n`, 'latin1'));
    lines.push(Buffer.from('\r\n', 'latin1'), body);
  }
  return Buffer.concat(lines);
}

function decodeChunked(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (let guard = 0; guard < 100_000; guard++) {
    const eol = data.indexOf('\r\n', at, 'latin1');
    if (eol < 0) return undefined;
    const size = parseInt(data.subarray(at, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    const start = eol + 2;
    if (data.length < start + size) return undefined;
    parts.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
  return undefined;
}

interface Head {
  status: number;
  headers: Record<string, string>;
  rest: Buffer;
}

function parseHead(data: Buffer): Head | undefined {
  const end = data.indexOf('\r\n\r\n', 0, 'latin1');
  if (end < 0) return undefined;
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0]?.slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(m[1]), headers, rest: data.subarray(end + 4) };
}

/**
 * Parses one response; undefined while it is incomplete. `closed`: the peer closed the connection.
 * `headOnly`: the answer to a HEAD request, which has no body whatever its headers say.
 */
export function parseResponse(data: Buffer, closed: boolean, headOnly = false): RawResponse | undefined {
  const head = parseHead(data);
  if (!head) return undefined;
  const { status, headers, rest } = head;
  let body: Buffer | undefined;
  if (headOnly || status === 204 || status === 304 || (status >= 100 && status < 200)) body = Buffer.alloc(0);
  else if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) body = decodeChunked(rest);
  else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    body = rest.length >= n ? rest.subarray(0, n) : undefined;
  } else body = closed ? rest : undefined;
  return body === undefined ? undefined : { status, headers, body };
}

/**
 * Sends one request to 127.0.0.1:`port` and resolves with the response. A response that arrives
 * before the whole request was written (an early 413) is still returned even when the server then
 * resets the connection.
 */
export function rawRequest(port: number, r: RawRequest, options: { timeoutMs?: number } = {}): Promise<RawResponse> {
  const bytes = encodeRequest(r, `127.0.0.1:${port}`);
  const isHead = r.method.toUpperCase() === 'HEAD';
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (closed: boolean, err?: Error) => {
      if (settled) return;
      const data = Buffer.concat(chunks);
      let res: RawResponse | undefined;
      try {
        res = parseResponse(data, closed, isHead);
      } catch (parseErr) {
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(parseErr instanceof Error ? parseErr : new Error(String(parseErr)));
        return;
      }
      if (res) {
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(res);
      } else if (closed || err) {
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(err ?? new Error(`connection closed after ${data.length} bytes without a complete response`));
      }
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new Error(`no complete response within ${options.timeoutMs ?? 10_000} ms for ${r.method} ${r.path.slice(0, 80)}`));
    }, options.timeoutMs ?? 10_000);
    socket.on('data', (c: Buffer) => { chunks.push(c); finish(false); });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (err) => finish(true, err));
    // Write without half-closing: Node's HTTP server aborts a request whose client sent FIN.
    socket.on('connect', () => socket.write(bytes));
  });
}
