import { strict as assert } from 'node:assert';
import type Koa from 'koa';
import pino from 'pino';
import { StoreRefusedDataError } from '../../../src/errors';
import { problemMiddleware } from '../../../src/http/problem';
import { ClientTokenVerifier, mintClientToken } from '../../../src/security';
import { callerOf } from '../../../src/http/auth';

/** A context that records what the middleware answers. */
function fakeContext(): Koa.Context & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  return { method: 'POST', path: '/tasks', status: 404, body: undefined, type: '', headers, set: (k: string, v: string) => { headers[k] = v; } } as unknown as Koa.Context & { headers: Record<string, string> };
}

async function answerTo(err: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const ctx = fakeContext();
  await problemMiddleware(pino({ level: 'silent' }))(ctx, () => { throw err; });
  return { status: ctx.status, body: JSON.parse(String(ctx.body)) as Record<string, unknown> };
}

/** pg's error for a string PostgreSQL cannot hold, as the driver raises it. */
function pgDataError(): Error {
  return Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05', detail: '\\u0000 cannot be converted to text.', where: 'JSON data, line 1: {"x":"secret-payload...', severity: 'ERROR' });
}

describe('problem details do not echo library or database text', () => {
  it('answers a submission the store cannot hold with a fixed 400, whatever the error says', async () => {
    const err = new StoreRefusedDataError('the task store cannot hold this submission: unsupported Unicode escape sequence', { cause: pgDataError() });
    const { status, body } = await answerTo(err);
    assert.equal(status, 400);
    const text = JSON.stringify(body);
    for (const leak of ['Unicode escape', '22P05', 'secret-payload', 'JSON data']) assert.ok(!text.includes(leak), `${leak} in ${text}`);
    assert.match(String(body['detail']), /cannot hold a value of this submission/);
  });

  it('answers an unexpected database error with a bare 500', async () => {
    const { status, body } = await answerTo(pgDataError());
    assert.equal(status, 500);
    assert.equal(body['detail'], 'an internal error occurred');
  });

  it('answers a forged token with a 401 that does not quote the token library', async () => {
    const verifier = new ClientTokenVerifier({ secret: 'a'.repeat(40), algorithms: ['HS256'], clockToleranceSec: 5 });
    const forged = mintClientToken('b'.repeat(40), { sub: 'mallory', role: 'admin' });
    const { status, body } = await answerTo(await callerOf(verifier, forged).then(() => new Error('accepted'), (e: unknown) => e));
    assert.equal(status, 401);
    assert.equal(body['detail'], 'invalid token: the token\'s signature does not verify');
    assert.ok(!JSON.stringify(body).includes('invalid signature'));
  });
});
