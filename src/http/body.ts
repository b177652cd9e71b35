import type Koa from 'koa';
import coBody from 'co-body';
import { badRequest, HttpProblem } from './problem';

/**
 * JSON may hold text the store cannot: a lone surrogate (`"\ud800"`) or NUL. PostgreSQL's jsonb
 * refuses both, which would turn bad input into a failed insert; refuse them here as a 400.
 */
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function storableText(key: string, value: unknown): unknown {
  const bad = (s: string) => LONE_SURROGATE.test(s) || s.includes('\u0000');
  if (bad(key) || (typeof value === 'string' && bad(value))) throw badRequest('request body holds text that cannot be stored (a lone UTF-16 surrogate or a NUL character)');
  return value;
}

/**
 * Reads a JSON body with a size limit checked while reading (413 before the whole body is held).
 * An empty body is `undefined`; anything that is not JSON is a 400.
 */
export async function readJson(ctx: Koa.Context, limitBytes: number): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limitBytes) throw new HttpProblem(413, 'Payload Too Large', `request body of ${declared} bytes exceeds ${limitBytes}`);
  let text: string;
  try {
    text = (await coBody.text(ctx.req, { limit: limitBytes, encoding: 'utf8' })) as string;
  } catch (err) {
    const e = err as { status?: number; type?: string };
    if (e.status === 413 || e.type === 'entity.too.large') throw new HttpProblem(413, 'Payload Too Large', `request body exceeds ${limitBytes} bytes`);
    throw badRequest('request body could not be read');
  }
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, storableText);
  } catch (err) {
    if (err instanceof HttpProblem) throw err;
    throw badRequest('request body is not valid JSON');
  }
  return parsed;
}
