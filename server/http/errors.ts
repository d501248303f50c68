import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import type { ErrorBody } from '../../shared/api-types.js';
import type { ErrorCode } from '../../shared/error-codes.js';
import { ConfigError } from '../config/settings.js';
import { DomainError } from '../errors/domain-error.js';
import { LibraryPathError } from '../indexing/library-paths.js';
import { ProviderUnavailableError } from '../reliability/circuit-breaker.js';
import { diskFullCause, type DiskSpace } from '../reliability/disk-space.js';

/**
 * The HTTP status of each error code: the one place codes meet statuses. A
 * code keeps its status wherever it is raised (route, middleware, MCP tool).
 */
export const STATUS_BY_CODE: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_path: 400,
  invalid_snapshot: 400,
  cancelled: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  not_found: 404,
  no_route: 404,
  not_indexed: 422,
  unsupported_type: 415,
  not_indexable: 422,
  job_finished: 409,
  job_elsewhere: 409,
  embedder_mismatch: 409,
  unauthorized: 401,
  anthropic_unauthorized: 401,
  forbidden: 403,
  forbidden_origin: 403,
  anthropic_forbidden: 403,
  misdirected_request: 421,
  rate_limited: 429,
  budget_exhausted: 503,
  store_unavailable: 503,
  provider_unavailable: 503,
  embedder_unavailable: 503,
  overloaded: 503,
  embedder_error: 502,
  upstream_unreachable: 502,
  upstream_rejected: 502,
  upstream_error: 502,
  // Indexing failed after the write (a store busy past its timeout, an embedder outage): worth retrying.
  index_failed: 503,
  stream_interrupted: 502,
  upstream_timeout: 504,
  insufficient_storage: 507,
  config_error: 500,
  delete_failed: 500,
  internal: 500,
};

/** A failure as the client sees it: status, code and a message that says what to do. */
export interface HttpError {
  status: ContentfulStatusCode;
  code: ErrorCode;
  message: string;
}

export function describeZodError(err: ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((issue) => {
      const field = issue.path.join('.') || 'body';
      if (issue.code === 'unrecognized_keys') return `${field === 'body' ? '' : field + ': '}unknown field(s) ${issue.keys.join(', ')}`;
      if (issue.code === 'invalid_type' && issue.received === 'undefined') return `${field}: is required`;
      return `${field}: ${issue.message}`;
    })
    .join('; ');
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

function reply(code: ErrorCode, message: string): HttpError {
  return { status: STATUS_BY_CODE[code], code, message };
}

/**
 * The one mapper from a thrown error to the API's error (used by
 * `app.onError`, the MCP tools and the CLI): a DomainError keeps its code and
 * message, the low-level errors that are written for people get their code
 * here, anything else is `internal` and its details never leak.
 * `disk` names the folder a disk-full error hit (and tells /health); this is
 * the one place ENOSPC and SQLITE_FULL become 507 (issue 12, defect 9).
 */
export function toHttpError(err: unknown, disk?: DiskSpace): HttpError {
  if (err instanceof DomainError) return reply(err.code, err.message);
  const full = disk?.describe(err) ?? (diskFullCause(err) ? 'disk full at the server\'s data folders; free space there and retry' : null);
  if (full !== null) return reply('insufficient_storage', full);
  if (err instanceof ZodError) return reply('invalid_request', describeZodError(err));
  if (err instanceof LibraryPathError) return reply('invalid_path', err.message);
  // Providers write these messages for people and scrub credentials from them, so they may be shown.
  if (err instanceof ProviderUnavailableError) return reply('provider_unavailable', err.message);
  if (err instanceof ConfigError) return reply('config_error', err.message);
  return reply('internal', 'internal error; the server log has the details');
}

/** The JSON error answer for `code`, with that code's status. */
export function errorResponse(c: Context, code: ErrorCode, message: string): Response {
  return c.json(errorBody(code, message), STATUS_BY_CODE[code]);
}
