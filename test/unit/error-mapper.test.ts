import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ERROR_CODES, isErrorCode, type ErrorCode } from '../../shared/error-codes.js';
import { ConfigError } from '../../server/config/settings.js';
import { EmbedderRequestError, EmbedderResponseError, EmbedderTimeoutError } from '../../server/embedders/resilience.js';
import { DomainError } from '../../server/errors/domain-error.js';
import { toHttpError } from '../../server/http/errors.js';
import { LibraryPathError } from '../../server/indexing/library-paths.js';
import { ProviderUnavailableError } from '../../server/reliability/circuit-breaker.js';
import { SnapshotError, SnapshotNotFoundError } from '../../server/stores/store-admin.js';
import { EmbedderMismatchError, StoreUnavailableError } from '../../server/stores/vector-store.js';

/** The statuses the API has always answered (README "HTTP API"); written out so a changed status fails here. */
const EXPECTED: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_path: 400,
  invalid_snapshot: 400,
  cancelled: 400,
  unauthorized: 401,
  anthropic_unauthorized: 401,
  forbidden: 403,
  forbidden_origin: 403,
  anthropic_forbidden: 403,
  not_found: 404,
  no_route: 404,
  job_finished: 409,
  job_elsewhere: 409,
  embedder_mismatch: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  misdirected_request: 421,
  not_indexed: 422,
  unsupported_type: 415,
  not_indexable: 422,
  rate_limited: 429,
  config_error: 500,
  delete_failed: 500,
  internal: 500,
  embedder_error: 502,
  upstream_unreachable: 502,
  upstream_rejected: 502,
  upstream_error: 502,
  index_failed: 503,
  stream_interrupted: 502,
  budget_exhausted: 503,
  store_unavailable: 503,
  provider_unavailable: 503,
  embedder_unavailable: 503,
  overloaded: 503,
  upstream_timeout: 504,
  insufficient_storage: 507,
};

describe('toHttpError: one mapper from errors to the API answer', () => {
  it.each(ERROR_CODES.map((code) => [code, EXPECTED[code]] as const))('DomainError %s answers %i with its own message', (code, status) => {
    const mapped = toHttpError(new DomainError(code, `the ${code} message; do this`));
    expect(mapped).toEqual({ status, code, message: `the ${code} message; do this` });
  });

  it('knows every code it is given, and nothing else', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(ERROR_CODES.every(isErrorCode)).toBe(true);
    expect(isErrorCode('unreachable')).toBe(false);
    expect(isErrorCode(404)).toBe(false);
  });

  it('maps the low-level errors written for people to their codes, keeping the message', () => {
    const cases: [unknown, number, ErrorCode][] = [
      [new LibraryPathError('path: must stay inside the library'), 400, 'invalid_path'],
      [new StoreUnavailableError('Qdrant unreachable at http://q:6333; start it'), 503, 'store_unavailable'],
      [new ProviderUnavailableError('Mistral', 'circuit open after 5 failures; retrying in 28 s', null, 28_000), 503, 'provider_unavailable'],
      [new EmbedderRequestError('Mistral unreachable', null, true), 503, 'embedder_unavailable'],
      [new EmbedderRequestError('Mistral is busy (429); try again later', 429, true, 2_000), 503, 'embedder_unavailable'],
      [new EmbedderRequestError('Mistral failed (500): upstream', 500, true), 503, 'embedder_unavailable'],
      [new EmbedderTimeoutError('Mistral took longer than 30000 ms'), 503, 'embedder_unavailable'],
      [new EmbedderRequestError('Mistral refused the request (400): bad input', 400, false), 502, 'embedder_error'],
      [new EmbedderResponseError('Mistral answered 2 vectors for 3 texts'), 502, 'embedder_error'],
      [new EmbedderMismatchError('the index was built with another embedder; re-index'), 409, 'embedder_mismatch'],
      [new SnapshotNotFoundError('no snapshot "x.snapshot"; see GET /api/admin/snapshots'), 404, 'not_found'],
      [new SnapshotError('snapshot name "../x": use a name from GET /api/admin/snapshots'), 400, 'invalid_snapshot'],
      [new ConfigError('vector.url: is required for the qdrant store'), 500, 'config_error'],
    ];
    for (const [err, status, code] of cases) {
      expect(toHttpError(err), code).toEqual({ status, code, message: err instanceof Error ? err.message : '' });
    }
  });

  it('words a zod error by its fields', () => {
    const parsed = z.object({ query: z.string() }).safeParse({});
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(toHttpError(parsed.error)).toEqual({ status: 400, code: 'invalid_request', message: 'query: is required' });
  });

  it('answers 507 for a full disk, found in the cause chain', () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const mapped = toHttpError(new Error('saving failed', { cause: full }));
    expect([mapped.status, mapped.code]).toEqual([507, 'insufficient_storage']);
    expect(mapped.message).toMatch(/disk full.*free space/);
  });

  it('never leaks an unexpected error: 500 internal with a generic message', () => {
    const mapped = toHttpError(new TypeError('cannot read x of undefined at /srv/secret/path.ts'));
    expect(mapped).toEqual({ status: 500, code: 'internal', message: 'internal error; the server log has the details' });
    expect(toHttpError('a thrown string')).toEqual(mapped);
  });
});
