import type { MiddlewareHandler } from 'hono';
import { LRUCache } from 'lru-cache';
import type { Settings } from '../config/schema.js';
import { DomainError } from '../errors/domain-error.js';
import type { AppEnv } from './app-env.js';

export type Limits = Settings['limits'];
export type Budget = 'ask' | 'index' | 'request';

/** Setting name and wording per budget, so a 429 says which knob to turn. */
const BUDGETS: Record<Budget, { setting: keyof Limits; what: string }> = {
  ask: { setting: 'asks_per_minute', what: 'questions' },
  index: { setting: 'index_per_minute', what: 'index requests' },
  request: { setting: 'requests_per_minute', what: 'requests' },
};

/** More developers than any team has; bounds memory if names ever come from somewhere unexpected. */
const MAX_BUCKETS = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

export type Decision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

/**
 * Token buckets, one per (developer, budget): capacity is the per-minute
 * budget and it refills continuously, so a burst of a minute's worth is fine
 * and a steady stream settles at the budget.
 */
export class RateLimiter {
  private readonly buckets = new LRUCache<string, Bucket>({ max: MAX_BUCKETS });

  constructor(
    private readonly limits: Limits,
    private readonly now: () => number = Date.now,
  ) {}

  perMinute(budget: Budget): number {
    return this.limits[BUDGETS[budget].setting];
  }

  take(developer: string, budget: Budget): Decision {
    const perMinute = this.perMinute(budget);
    if (perMinute === 0) return { allowed: true, remaining: Number.POSITIVE_INFINITY };
    const perMs = perMinute / 60_000;
    const key = `${budget}\u0000${developer}`;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: perMinute, at: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, remaining: Math.floor(bucket.tokens) };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
  }
}

/** The 429 for a refused take, the same over HTTP and MCP: which budget, its setting, and when to retry. */
export function rateLimitedError(limiter: RateLimiter, budget: Budget, retryAfterSeconds: number): DomainError {
  const { setting, what } = BUDGETS[budget];
  return new DomainError(
    'rate_limited',
    `too many ${what}: limits.${setting} allows ${limiter.perMinute(budget)} per minute per developer; retry in ${retryAfterSeconds} s (or ask an operator to raise limits.${setting})`,
  );
}

/** Takes one from `budget` for `developer`; throws the 429 when it is spent (for MCP tools, which have no HTTP path per call). */
export function takeOrThrow(limiter: RateLimiter, developer: string, budget: Budget): void {
  const decision = limiter.take(developer, budget);
  if (!decision.allowed) throw rateLimitedError(limiter, budget, decision.retryAfterSeconds);
}

/**
 * Runs after authentication: budgets are per developer name, whichever token,
 * machine or protocol (/api, /mcp) it comes from, so both share one limiter.
 */
export function rateLimit(limiter: RateLimiter, budgetFor: (method: string, path: string) => Budget): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const budget = budgetFor(c.req.method, c.req.path);
    const decision = limiter.take(c.get('developer').name, budget);
    if (!decision.allowed) {
      c.header('Retry-After', String(decision.retryAfterSeconds));
      throw rateLimitedError(limiter, budget, decision.retryAfterSeconds);
    }
    await next();
  };
}

/** The schemas cap queries at MAX_QUERY_CHARS (shared/limits.ts); `limits.max_query_chars` may set a lower bound per server. */
export function checkQueryLength(text: string, field: string, limits: Limits): void {
  if (text.length > limits.max_query_chars) {
    throw new DomainError(
      'invalid_request',
      `${field}: is ${text.length} characters, more than limits.max_query_chars (${limits.max_query_chars}); shorten it`,
    );
  }
}
