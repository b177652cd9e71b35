import type Koa from 'koa';
import type { AuthState } from './auth';
import { HttpProblem } from './problem';

/** Rate limiting per caller, as configured. */
export interface RateLimitOptions {
  /** Sustained requests per second per caller; 0 turns limiting off. */
  ratePerSec: number;
  /** Requests a caller may make at once after being idle; 0 turns limiting off. */
  burst: number;
  /**
   * Most callers tracked at once. Beyond it the least recently seen caller is forgotten (and
   * starts again with a full bucket), so a flood of distinct subjects cannot grow memory.
   * @defaultValue 10000
   */
  maxCallers?: number;
  /** Clock in milliseconds (tests pass a fake one). @defaultValue Date.now */
  now?: () => number;
  /**
   * The part of `ratePerSec` and `burst` this process grants, read at each request: with the
   * cluster's rate split over N processes, `1 / N`. A value outside (0, 1] counts as 1.
   * @defaultValue () =\> 1
   */
  share?: () => number;
}

/** {@link RateLimitOptions} with every default applied. */
export interface ResolvedRateLimitOptions {
  enabled: boolean;
  ratePerSec: number;
  burst: number;
  maxCallers: number;
  now: () => number;
  share: () => number;
}

const DEFAULT_MAX_CALLERS = 10_000;

/** Applies the defaults once; limiting is off when either the rate or the burst is 0. */
export function resolveRateLimitOptions(o: RateLimitOptions): ResolvedRateLimitOptions {
  for (const [name, v] of [['ratePerSec', o.ratePerSec], ['burst', o.burst]] as const) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`rate limit ${name} must be a finite number >= 0, got ${v}`);
  }
  const maxCallers = o.maxCallers ?? DEFAULT_MAX_CALLERS;
  if (!Number.isInteger(maxCallers) || maxCallers < 1) throw new RangeError(`rate limit maxCallers must be a positive integer, got ${maxCallers}`);
  return { enabled: o.ratePerSec > 0 && o.burst > 0, ratePerSec: o.ratePerSec, burst: o.burst, maxCallers, now: o.now ?? Date.now, share: o.share ?? (() => 1) };
}

/** The answer of {@link TokenBucketLimiter.take}. */
export type TakeResult = { allowed: true; remaining: number } | { allowed: false; retryAfterSec: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * Token buckets keyed by caller: each holds up to `burst` tokens and refills at `ratePerSec`; a
 * request takes one token or is refused with the seconds until one is back.
 *
 * Memory stays bounded without a timer: the map is kept in least-recently-used order (a touched
 * bucket moves to the end), so the buckets at its head are the idlest. A bucket idle long enough
 * to have refilled completely carries no information (a new bucket is full too) and is dropped
 * on the next call; and past `maxCallers` the idlest bucket is dropped even if not yet full.
 */
export class TokenBucketLimiter {
  readonly #o: ResolvedRateLimitOptions;
  readonly #buckets = new Map<string, Bucket>();
  /** Time in which an empty bucket refills completely. */
  readonly #refillMs: number;

  constructor(options: RateLimitOptions | ResolvedRateLimitOptions) {
    this.#o = 'enabled' in options ? options : resolveRateLimitOptions(options);
    this.#refillMs = this.#o.enabled ? (this.#o.burst / this.#o.ratePerSec) * 1000 : 0;
  }

  get enabled(): boolean {
    return this.#o.enabled;
  }

  /** Callers currently tracked. @internal */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token for `key`, or says how long to wait for one. */
  take(key: string): TakeResult {
    if (!this.#o.enabled) return { allowed: true, remaining: Number.POSITIVE_INFINITY };
    const now = this.#o.now();
    this.#evictIdle(now);
    const { ratePerSec, burst } = this.#shared();
    const bucket = this.#buckets.get(key);
    let tokens: number;
    if (bucket) {
      // A clock that steps back must not mint tokens (elapsed < 0) or drain them.
      const elapsedMs = Math.max(0, now - bucket.updatedMs);
      tokens = Math.min(burst, bucket.tokens + (elapsedMs * ratePerSec) / 1000);
      this.#buckets.delete(key);
    } else {
      tokens = burst;
      if (this.#buckets.size >= this.#o.maxCallers) this.#evictOldest();
    }
    if (tokens >= 1) {
      this.#buckets.set(key, { tokens: tokens - 1, updatedMs: now });
      return { allowed: true, remaining: Math.floor(tokens - 1) };
    }
    this.#buckets.set(key, { tokens, updatedMs: now });
    return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((1 - tokens) / ratePerSec)) };
  }

  /**
   * This process's part of the rate and the burst. The burst keeps at least one token, or a
   * caller could never be served here. The refill time (burst / rate) that evicts idle buckets is
   * the same for any share, but for that floor, where a bucket may go a little early (full again).
   */
  #shared(): { ratePerSec: number; burst: number } {
    const raw = this.#o.share();
    const share = Number.isFinite(raw) && raw > 0 && raw <= 1 ? raw : 1;
    return { ratePerSec: this.#o.ratePerSec * share, burst: Math.max(1, this.#o.burst * share) };
  }

  #evictIdle(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (now - b.updatedMs < this.#refillMs) return;
      this.#buckets.delete(key);
    }
  }

  #evictOldest(): void {
    const oldest = this.#buckets.keys().next();
    if (!oldest.done) this.#buckets.delete(oldest.value);
  }
}

/** The 429 answer: problem+json through the problem middleware, with `Retry-After` in whole seconds. */
export function tooManyRequests(retryAfterSec: number): HttpProblem {
  return new HttpProblem(429, 'Too Many Requests', `rate limit exceeded; retry in ${retryAfterSec} s`, { retryAfterSec }, { 'Retry-After': String(retryAfterSec) });
}

/**
 * Koa middleware limiting each caller (the token's `sub`) to its bucket. Mount it after the auth
 * middleware: before it there is no verified subject, and keying on a claim that was not checked
 * would let anyone drain another caller's bucket. A request without a caller (a route mounted
 * before auth) is not limited here; per-address limits belong to the ingress in front.
 */
export function rateLimitMiddleware(limiterOrOptions: TokenBucketLimiter | RateLimitOptions): Koa.Middleware<AuthState> {
  const limiter = limiterOrOptions instanceof TokenBucketLimiter ? limiterOrOptions : new TokenBucketLimiter(limiterOrOptions);
  if (!limiter.enabled) return (_ctx, next) => next();
  return async (ctx, next) => {
    const sub = (ctx.state as Partial<AuthState>).caller?.sub;
    if (sub !== undefined) {
      const r = limiter.take(sub);
      if (!r.allowed) throw tooManyRequests(r.retryAfterSec);
    }
    await next();
  };
}
