import type Koa from 'koa';
import coBody from 'co-body';
import { badRequest, HttpProblem } from './problem';

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
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('request body is not valid JSON');
  }
}
