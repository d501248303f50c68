/**
 * Milliseconds to wait from a Retry-After header: delay-seconds or an
 * HTTP-date (RFC 9110 §10.2.3); null when absent or unreadable, so the caller
 * falls back to its own backoff. The server's embedders and the extension's
 * API client both read it, in this one unit.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}
