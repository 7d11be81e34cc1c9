// Token-bucket rate limits per quota key, on an injected clock so throttling tests are exact.
import type { RateLimit } from './settings';

export interface RateLimiter {
  /** Takes one token from `key`'s bucket; false when the bucket is empty (the call is throttled). */
  tryTake(key: string, limit: RateLimit): boolean;
}

export function createRateLimiter(nowMs: () => number): RateLimiter {
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return {
    tryTake(key, limit) {
      const now = nowMs();
      const bucket = buckets.get(key) ?? { tokens: limit.burst, atMs: now };
      const refilled = Math.min(
        limit.burst,
        bucket.tokens + ((now - bucket.atMs) / 1000) * limit.ratePerSecond,
      );
      const allowed = refilled >= 1;
      buckets.set(key, { tokens: allowed ? refilled - 1 : refilled, atMs: now });
      return allowed;
    },
  };
}
