import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import type { ErrorBody } from '../../shared/api.js';
import { ConfigError } from '../config/settings.js';
import { EmbedderRequestError, EmbedderResponseError, EmbedderTimeoutError, isEmbedderOutage } from '../embedders/resilience.js';
import { LibraryPathError } from '../indexing/library-paths.js';
import { NotOwnerError, UploadNotIndexedError, UploadRefusedError } from '../indexing/upload-errors.js';
import { ProviderUnavailableError } from '../reliability/circuit-breaker.js';
import { diskFullCause, type DiskSpace } from '../reliability/disk-space.js';
import { NotFoundError } from '../retrieval/search.js';
import { EmbedderMismatchError, StoreUnavailableError } from '../stores/vector-store.js';

/** An error meant for the client: status, a stable code and a message that says what to do. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
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

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/**
 * Maps any thrown error to the API's JSON error shape; internals never leak.
 * `disk` names the folder a disk-full error hit (and tells /health); this is
 * the one place ENOSPC and SQLITE_FULL become 507 (issue 12, defect 9).
 */
export function toHttpError(err: unknown, disk?: DiskSpace): HttpError {
  if (err instanceof HttpError) return err;
  const full = disk?.describe(err) ?? (diskFullCause(err) ? 'disk full at the server\'s data folders; free space there and retry' : null);
  if (full !== null) return new HttpError(507, 'insufficient_storage', full);
  if (err instanceof ZodError) return new HttpError(400, 'invalid_request', describeZodError(err));
  if (err instanceof LibraryPathError) return new HttpError(400, 'invalid_path', err.message);
  if (err instanceof NotOwnerError) return new HttpError(403, 'forbidden', err.message);
  if (err instanceof UploadRefusedError) return new HttpError(err.code === 'unsupported_type' ? 415 : 422, err.code, err.message);
  // Usually a store busy beyond its timeout or an embedder outage: worth retrying.
  if (err instanceof UploadNotIndexedError) return new HttpError(503, 'not_indexed', err.message);
  if (err instanceof NotFoundError) return new HttpError(404, 'not_found', err.message);
  if (err instanceof StoreUnavailableError) return new HttpError(503, 'store_unavailable', err.message);
  // Providers write these messages for people and scrub credentials from them, so they may be shown.
  if (err instanceof ProviderUnavailableError) return new HttpError(503, 'provider_unavailable', err.message);
  if (isEmbedderOutage(err) && err instanceof Error) return new HttpError(503, 'embedder_unavailable', err.message);
  if (err instanceof EmbedderRequestError || err instanceof EmbedderResponseError || err instanceof EmbedderTimeoutError) {
    return new HttpError(502, 'embedder_error', err.message);
  }
  if (err instanceof EmbedderMismatchError) return new HttpError(409, 'embedder_mismatch', err.message);
  if (err instanceof ConfigError) return new HttpError(500, 'config_error', err.message);
  return new HttpError(500, 'internal', 'internal error; the server log has the details');
}

export function sendError(c: Context, err: HttpError): Response {
  return c.json(errorBody(err.code, err.message), err.status);
}
