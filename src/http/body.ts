import type Koa from 'koa';
import coBody from 'co-body';
import { badRequest, HttpProblem } from './problem';
import { isStorableText } from '../util';

/**
 * JSON may hold text the store cannot: a lone surrogate (`"\ud800"`) or NUL. PostgreSQL's jsonb
 * refuses both, which would turn bad input into a failed insert; refuse them here as a 400.
 */
function storableText(key: string, value: unknown): unknown {
  const bad = (s: string) => !isStorableText(s);
  if (bad(key) || (typeof value === 'string' && bad(value))) throw badRequest('request body holds text that cannot be stored (a lone UTF-16 surrogate or a NUL character)');
  // 1e400 parses to Infinity, which JSON (and so the store) can only keep as null.
  if (typeof value === 'number' && !Number.isFinite(value)) throw badRequest(`request body holds a number out of range at key "${key.slice(0, 64)}"`);
  return value;
}

/**
 * What JSON text needs to hold a value {@link storableText} refuses: a `\u` escape (the only way
 * to write a lone surrogate or NUL, as decoded UTF-8 holds neither and JSON forbids a raw NUL), or
 * a number that may overflow (an exponent of three digits or more, or 200 digits in a row). Text
 * without any is parsed without the reviver, which costs several times the plain parse.
 */
const MAY_HOLD_UNSTORABLE = /\\u|[eE][+-]?\d{3}|\d{200}/;

/** Deeper JSON than this is refused before parsing: it would overflow the parser's stack. */
export const MAX_JSON_DEPTH = 128;

/** The deepest nesting of arrays and objects in JSON text (strings skipped); stops early past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
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
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw badRequest(`request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  let parsed: unknown;
  try {
    parsed = MAY_HOLD_UNSTORABLE.test(text) ? JSON.parse(text, storableText) : JSON.parse(text);
  } catch (err) {
    if (err instanceof HttpProblem) throw err;
    throw badRequest('request body is not valid JSON');
  }
  return parsed;
}
