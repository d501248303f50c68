/**
 * Every `code` the server sends in `{"error": {"code", "message"}}` (and in an
 * ask stream's `error` event, and an MCP tool's `structuredContent.error`).
 * One list both sides switch on: the server maps each code to its HTTP status
 * in `server/http/errors.ts`; the extension decides what to offer from it.
 */
export const ERROR_CODES = [
  // The request itself (4xx): fix it and send it again.
  'invalid_request',
  'invalid_json',
  'invalid_path',
  'invalid_snapshot',
  'unsupported_media_type',
  'payload_too_large',
  'not_found',
  // No such route: the server is older or another service (a client of a matching version never gets it).
  'no_route',
  'not_indexed',
  'unsupported_type',
  'not_indexable',
  'job_finished',
  'job_elsewhere',
  'embedder_mismatch',
  'cancelled',
  // Who may do what.
  'unauthorized',
  'forbidden',
  'forbidden_origin',
  'misdirected_request',
  'rate_limited',
  // Anthropic refused the developer's key.
  'anthropic_unauthorized',
  'anthropic_forbidden',
  // A dependency failed or is paused (5xx): retry later or ask an operator.
  'budget_exhausted',
  'store_unavailable',
  'provider_unavailable',
  'embedder_unavailable',
  'embedder_error',
  'overloaded',
  'upstream_timeout',
  'upstream_unreachable',
  'upstream_rejected',
  'upstream_error',
  'index_failed',
  'stream_interrupted',
  'insufficient_storage',
  // The server's own failures.
  'config_error',
  'delete_failed',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

/** A code this version of the server may send; an older or newer server may send others. */
export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && KNOWN.has(v);
}
