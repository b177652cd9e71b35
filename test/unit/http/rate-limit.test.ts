import { strict as assert } from 'node:assert';
import type Koa from 'koa';
import { HttpProblem, problemMiddleware } from '../../../src/http/problem';
import { rateLimitMiddleware, resolveRateLimitOptions, TokenBucketLimiter } from '../../../src/http/rate-limit';
import { silentLogger } from '../../../src/observability/logger';

/** A clock the test moves by hand. */
function fakeClock(startMs = 1_000_000) {
  let t = startMs;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

/** The fields of a Koa context the middlewares touch; no server, no socket. */
function fakeContext(sub?: string) {
  const headers: Record<string, string> = {};
  const ctx = {
    method: 'GET', path: '/tasks', status: 404, body: undefined as unknown, type: '',
    state: sub === undefined ? {} : { caller: { sub, roles: ['submitter'] } },
    set(name: string, value: string) { headers[name.toLowerCase()] = value; },
  };
  return { ctx, headers };
}

/** Runs problem middleware → rate limit → a handler answering 200, like the app's chain. */
async function request(limit: Koa.Middleware, sub?: string) {
  const { ctx, headers } = fakeContext(sub);
  const problems = problemMiddleware(silentLogger());
  await problems(ctx as unknown as Koa.Context, () => limit(ctx as unknown as Koa.Context, async () => { ctx.status = 200; ctx.body = { ok: true }; }));
  // The problem middleware answers with serialized JSON; the handler's own body is an object.
  const body = typeof ctx.body === 'string' ? JSON.parse(ctx.body) as Record<string, unknown> : ctx.body as Record<string, unknown>;
  return { status: ctx.status, body, type: ctx.type, headers };
}

describe('TokenBucketLimiter', () => {
  it('lets a caller spend its burst at once and refuses the next request', () => {
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ ratePerSec: 2, burst: 5, now: clock.now });
    for (let i = 0; i < 5; i++) assert.equal(limiter.take('alice').allowed, true, `request ${i + 1} of the burst`);
    assert.deepEqual(limiter.take('alice'), { allowed: false, retryAfterSec: 1 });
  });

  it('refills at the configured rate and never beyond the burst', () => {
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ ratePerSec: 10, burst: 3, now: clock.now });
    for (let i = 0; i < 3; i++) limiter.take('alice');
    assert.equal(limiter.take('alice').allowed, false);
    clock.advance(100);
    assert.equal(limiter.take('alice').allowed, true, 'one token back after 1/rate seconds');
    assert.equal(limiter.take('alice').allowed, false);
    clock.advance(60_000);
    let allowed = 0;
    while (limiter.take('alice').allowed) allowed++;
    assert.equal(allowed, 3, 'a long pause refills up to the burst only');
  });

  it('keeps a separate bucket per caller', () => {
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ ratePerSec: 1, burst: 1, now: clock.now });
    assert.equal(limiter.take('alice').allowed, true);
    assert.equal(limiter.take('alice').allowed, false);
    assert.equal(limiter.take('bob').allowed, true, "alice's requests do not use bob's budget");
  });

  it('rounds Retry-After up to whole seconds for the time until one token is back', () => {
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ ratePerSec: 0.25, burst: 1, now: clock.now });
    assert.equal(limiter.take('alice').allowed, true);
    assert.deepEqual(limiter.take('alice'), { allowed: false, retryAfterSec: 4 });
    clock.advance(2_500);
    assert.deepEqual(limiter.take('alice'), { allowed: false, retryAfterSec: 2 }, '1.5 s left is answered as 2');
    clock.advance(1_500);
    assert.equal(limiter.take('alice').allowed, true);
  });

  it('does not hand out tokens when the clock steps back', () => {
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ ratePerSec: 1, burst: 1, now: clock.now });
    limiter.take('alice');
    clock.advance(-3_600_000);
    assert.equal(limiter.take('alice').allowed, false);
  });

  it('forgets callers idle long enough to have refilled, without changing any answer', () => {
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ ratePerSec: 10, burst: 20, now: clock.now });
    for (let i = 0; i < 100; i++) limiter.take(`caller-${i}`);
    assert.equal(limiter.size, 100);
    clock.advance(2_000); // burst / rate = 2 s refills any bucket completely
    limiter.take('late');
    assert.equal(limiter.size, 1, 'only the caller seen now is kept');
  });

  it('keeps the number of tracked callers under the cap, dropping the least recently seen', () => {
    const clock = fakeClock();
    const limiter = new TokenBucketLimiter({ ratePerSec: 1, burst: 1, maxCallers: 3, now: clock.now });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c');
    assert.equal(limiter.take('a').allowed, false, 'a is now the most recently seen');
    limiter.take('d'); // evicts b, the idlest
    assert.equal(limiter.size, 3);
    assert.equal(limiter.take('c').allowed, false, 'c is still tracked');
    assert.equal(limiter.take('a').allowed, false, 'a is still tracked');
    for (let i = 0; i < 10_000; i++) limiter.take(`flood-${i}`);
    assert.equal(limiter.size, 3, 'a flood of distinct subjects does not grow memory');
  });

  it('is off when the rate or the burst is 0', () => {
    for (const o of [{ ratePerSec: 0, burst: 400 }, { ratePerSec: 200, burst: 0 }]) {
      const limiter = new TokenBucketLimiter(o);
      assert.equal(limiter.enabled, false);
      for (let i = 0; i < 1000; i++) assert.equal(limiter.take('alice').allowed, true);
      assert.equal(limiter.size, 0);
    }
  });

  it('grants only its share of the rate and the burst, read at each request', () => {
    const clock = fakeClock();
    let share = 0.5;
    const limiter = new TokenBucketLimiter({ ratePerSec: 10, burst: 4, now: clock.now, share: () => share });
    assert.equal(limiter.take('alice').allowed, true);
    assert.equal(limiter.take('alice').allowed, true);
    assert.deepEqual(limiter.take('alice'), { allowed: false, retryAfterSec: 1 }, 'half the burst');
    clock.advance(1000);
    let granted = 0;
    while (limiter.take('alice').allowed) granted++;
    assert.equal(granted, 2, 'refilled at half the rate, capped at half the burst');
    share = 1;
    clock.advance(1000);
    granted = 0;
    while (limiter.take('alice').allowed) granted++;
    assert.equal(granted, 4, 'the whole burst once this process is alone');
  });

  it('keeps one token of burst for a share too small for one, and treats a share outside (0, 1] as 1', () => {
    const clock = fakeClock();
    const tiny = new TokenBucketLimiter({ ratePerSec: 10, burst: 4, now: clock.now, share: () => 0.01 });
    assert.equal(tiny.take('a').allowed, true);
    assert.equal(tiny.take('a').allowed, false);
    for (const bad of [0, -1, 2, Number.NaN]) {
      const limiter = new TokenBucketLimiter({ ratePerSec: 10, burst: 4, now: clock.now, share: () => bad });
      let granted = 0;
      while (limiter.take('a').allowed) granted++;
      assert.equal(granted, 4, `share ${bad}`);
    }
  });

  it('refuses negative or non-finite settings', () => {
    assert.throws(() => resolveRateLimitOptions({ ratePerSec: -1, burst: 1 }), RangeError);
    assert.throws(() => resolveRateLimitOptions({ ratePerSec: 1, burst: Number.NaN }), RangeError);
    assert.throws(() => resolveRateLimitOptions({ ratePerSec: 1, burst: 1, maxCallers: 0 }), RangeError);
  });
});

describe('rateLimitMiddleware', () => {
  it('answers 429 problem+json with Retry-After once the caller is over its limit', async () => {
    const clock = fakeClock();
    const limit = rateLimitMiddleware({ ratePerSec: 0.5, burst: 2, now: clock.now }) as Koa.Middleware;
    assert.equal((await request(limit, 'alice')).status, 200);
    assert.equal((await request(limit, 'alice')).status, 200);
    const refused = await request(limit, 'alice');
    assert.equal(refused.status, 429);
    assert.equal(refused.type, 'application/problem+json');
    assert.equal(refused.headers['retry-after'], '2');
    assert.equal(refused.body['status'], 429);
    assert.equal(refused.body['title'], 'Too Many Requests');
    assert.equal(refused.body['retryAfterSec'], 2);
    assert.equal((await request(limit, 'bob')).status, 200, 'another caller is not affected');
    clock.advance(2_000);
    assert.equal((await request(limit, 'alice')).status, 200, 'allowed again after Retry-After');
  });

  it('throws an HttpProblem so the problem middleware shapes the answer', async () => {
    const limit = rateLimitMiddleware({ ratePerSec: 1, burst: 1, now: () => 0 }) as Koa.Middleware;
    const { ctx } = fakeContext('alice');
    await limit(ctx as unknown as Koa.Context, async () => undefined);
    await assert.rejects(limit(ctx as unknown as Koa.Context, async () => undefined), (err: unknown) => {
      assert.ok(err instanceof HttpProblem);
      assert.equal(err.status, 429);
      assert.deepEqual(err.headers, { 'Retry-After': '1' });
      return true;
    });
  });

  it('does not limit a request without an authenticated caller', async () => {
    const limit = rateLimitMiddleware({ ratePerSec: 1, burst: 1, now: () => 0 }) as Koa.Middleware;
    for (let i = 0; i < 5; i++) assert.equal((await request(limit)).status, 200);
  });

  it('passes everything through when limiting is off', async () => {
    const limit = rateLimitMiddleware({ ratePerSec: 0, burst: 0 }) as Koa.Middleware;
    for (let i = 0; i < 50; i++) assert.equal((await request(limit, 'alice')).status, 200);
  });

  it('shares one limiter between middlewares given the same instance', async () => {
    const limiter = new TokenBucketLimiter({ ratePerSec: 1, burst: 1, now: () => 0 });
    assert.equal((await request(rateLimitMiddleware(limiter) as Koa.Middleware, 'alice')).status, 200);
    assert.equal((await request(rateLimitMiddleware(limiter) as Koa.Middleware, 'alice')).status, 429);
  });
});
