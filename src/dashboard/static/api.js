// The REST API, called with the signed-in token.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `request failed with status ${status}`);
    this.status = status;
  }
}

/** The claims of a JWT, for display only (the server verifies every call). */
export function readClaims(token) {
  try {
    const part = token.split('.')[1];
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const claims = JSON.parse(json);
    const roles = Array.isArray(claims.roles) ? claims.roles : claims.role !== undefined ? [claims.role] : [];
    return { sub: typeof claims.sub === 'string' ? claims.sub : '', roles: roles.map(String), exp: typeof claims.exp === 'number' ? claims.exp * 1000 : null };
  } catch {
    return null;
  }
}

export class Api {
  /** `onUnauthorized` is told when the server refuses the token (expired, revoked, wrong key). */
  constructor(token, onUnauthorized) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
  }

  async request(method, path, body) {
    let res;
    try {
      res = await fetch(path, {
        method,
        cache: 'no-store',
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json, application/problem+json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, 'the principal cannot be reached');
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (res.ok) return data;
    const detail = data && typeof data === 'object' ? data.detail || data.title : text.slice(0, 200);
    if (res.status === 401 && this.onUnauthorized) this.onUnauthorized(detail);
    throw new ApiError(res.status, detail);
  }

  get(path) { return this.request('GET', path); }
  post(path, body) { return this.request('POST', path, body); }
  patch(path, body) { return this.request('PATCH', path, body); }
  put(path, body) { return this.request('PUT', path, body); }
  delete(path) { return this.request('DELETE', path); }

  /**
   * Reads a server-sent event stream with the token in a header (an EventSource cannot send one),
   * calling `onEvent(name, data)` per event until it ends or `signal` aborts it.
   */
  async stream(path, onEvent, signal) {
    const res = await fetch(path, { cache: 'no-store', signal, headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' } });
    if (!res.ok || !res.body) throw new ApiError(res.status, `stream refused (${res.status})`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) name = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        try { onEvent(name, data.length ? JSON.parse(data.join('\n')) : null); } catch { /* a malformed event is skipped */ }
      }
    }
  }
}

/** `/tasks?…` with only the filters that are set (the server refuses unknown parameters). */
export function tasksPath({ status, type, owner, limit, cursor }) {
  const q = new URLSearchParams();
  if (status) q.set('status', status);
  if (type) q.set('type', type);
  if (owner) q.set('owner', owner);
  if (limit) q.set('limit', String(limit));
  if (cursor) q.set('cursor', cursor);
  const s = q.toString();
  return s ? `/tasks?${s}` : '/tasks';
}
