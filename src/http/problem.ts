import type Koa from 'koa';
import type { Logger } from '../observability';
import { sendJson } from './json-body';
import { OverloadedError, StoreRefusedDataError, StoreUnavailableError } from '../errors';

/** An HTTP error that becomes an application/problem+json answer. */
export class HttpProblem extends Error {
  constructor(readonly status: number, readonly title: string, readonly detail: string, readonly extra: Record<string, unknown> = {}, readonly headers: Record<string, string> = {}) {
    super(detail);
  }
}

export const badRequest = (detail: string, extra: Record<string, unknown> = {}) => new HttpProblem(400, 'Bad Request', detail, extra);
export const unauthorized = (detail: string) => new HttpProblem(401, 'Unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer' });
export const forbidden = (detail: string) => new HttpProblem(403, 'Forbidden', detail);
export const notFound = (detail: string) => new HttpProblem(404, 'Not Found', detail);
export const conflict = (detail: string) => new HttpProblem(409, 'Conflict', detail);
export const unavailable = (detail: string, retryAfterSec = 1, extra: Record<string, unknown> = {}) =>
  new HttpProblem(503, 'Service Unavailable', detail, extra, { 'Retry-After': String(retryAfterSec) });

const TYPE_BASE = 'https://an-ki.dev/problems/';

/** The 400 detail of a submission the store could not hold. */
export const STORE_REFUSED_DETAIL = 'the task store cannot hold a value of this submission (too large, too deeply nested, or a character it cannot store)';

function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof StoreUnavailableError) return unavailable('the task store is unavailable; retry later');
  if (err instanceof OverloadedError) return unavailable(err.message, 1);
  // A fixed text: whatever built the error, the database's own message (which may quote the data
  // or name columns) must not reach the caller.
  if (err instanceof StoreRefusedDataError) return badRequest(STORE_REFUSED_DETAIL, { code: err.code });
  const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string; type?: string };
  const status = e.status ?? e.statusCode;
  // co-body / raw-body errors carry their own status (413 too large, 400 invalid JSON, 415 ...).
  if (status && status >= 400 && status < 500) {
    if (status === 413) return new HttpProblem(413, 'Payload Too Large', 'request body exceeds the size limit');
    if (e.type === 'entity.parse.failed' || /JSON/i.test(e.message ?? '')) return badRequest('request body is not valid JSON');
    return new HttpProblem(status, 'Bad Request', e.expose === false ? 'bad request' : (e.message ?? 'bad request'));
  }
  return new HttpProblem(500, 'Internal Server Error', 'an internal error occurred');
}

/** Turns every error into problem+json; messages are shown for 4xx only (5xx details go to the log). */
export function problemMiddleware(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw notFound(`no route for ${ctx.method} ${ctx.path}`);
    } catch (err) {
      const p = toProblem(err);
      if (p.status >= 500 && p.status !== 503) log.error({ err, method: ctx.method, path: ctx.path }, 'request failed');
      else if (p.status === 503) log.warn({ method: ctx.method, path: ctx.path, detail: p.detail, cause: (err as Error)?.cause instanceof Error ? ((err as Error).cause as Error).message : undefined }, 'request refused: unavailable');
      ctx.status = p.status;
      for (const [k, v] of Object.entries(p.headers)) ctx.set(k, v);
      sendJson(ctx, { type: `${TYPE_BASE}${p.status}`, title: p.title, status: p.status, detail: p.detail, ...p.extra }, 'application/problem+json');
    }
  };
}
