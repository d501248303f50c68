import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../shared/retry-after.js';

describe('parseRetryAfter (shared by the embedders and the extension, in ms)', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delay-seconds, fractions included', () => {
    expect(parseRetryAfter('1', now)).toBe(1000);
    expect(parseRetryAfter('12', now)).toBe(12_000);
    expect(parseRetryAfter(' 2.5 ', now)).toBe(2500);
  });

  it('reads HTTP dates relative to now, never negative', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter(new Date(now + 5000).toUTCString(), now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });

  it('is null when absent or unreadable, so the caller uses its own backoff', () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
  });
});
