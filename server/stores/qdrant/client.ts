import { QdrantClient, QdrantClientTimeoutError } from '@qdrant/js-client-rest';
import { isRecord } from '../../../shared/guards.js';
import { ConfigError } from '../../config/settings.js';
import { StoreUnavailableError } from '../vector-store.js';

/** Reaching Qdrant: the endpoint, the REST client, and its failures in our terms. */

export interface QdrantEndpoint {
  /** Scheme, host, port and prefix; never a key. */
  baseUrl: string;
  origin: string;
  prefix: string;
  port: number;
}

/** Normalises `vector.url` + `vector.port` as settings.yaml and docker-compose.yml write them (bare host, separate port). */
export function qdrantEndpoint(rawUrl: string, port = 6333): QdrantEndpoint {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(rawUrl) ? rawUrl : `http://${rawUrl}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new ConfigError(`vector.url: "${rawUrl}" is not a URL; set QDRANT_URL to e.g. http://localhost:6333`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`vector.url: "${parsed.protocol}" is not supported; set QDRANT_URL to an http:// or https:// address`);
  }
  const effectivePort = parsed.port ? Number(parsed.port) : port;
  const prefix = parsed.pathname.replace(/\/+$/, '');
  const origin = `${parsed.protocol}//${parsed.hostname}:${effectivePort}`;
  return { baseUrl: origin + prefix, origin, prefix, port: effectivePort };
}

/**
 * A client that never checks versions in the background (we check once, in
 * `init`). The key travels as the `api-key` header; it is set through `headers`
 * rather than `apiKey` because the latter prints its own console warning on
 * every http client, which bypasses our logger (see `insecureKeyWarning`).
 */
export function createQdrantClient(endpoint: QdrantEndpoint, apiKey: string | undefined, timeoutMs: number): QdrantClient {
  const url = new URL(endpoint.origin);
  return new QdrantClient({
    url: `${url.protocol}//${url.hostname}`,
    port: endpoint.port,
    prefix: endpoint.prefix || undefined,
    headers: apiKey ? { 'api-key': apiKey } : undefined,
    timeout: timeoutMs,
    checkCompatibility: false,
  });
}

/** A key sent in clear text over a network is worth one warning; over loopback it never leaves the machine. */
export function insecureKeyWarning(endpoint: QdrantEndpoint, apiKey: string | undefined): string | null {
  const host = new URL(endpoint.origin).hostname;
  const loopback = host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
  if (!apiKey || endpoint.origin.startsWith('https:') || loopback) return null;
  return `vector.api_key is sent unencrypted to ${endpoint.baseUrl}; use an https:// QDRANT_URL (or keep Qdrant on a private network)`;
}

/** The HTTP status of a client error (ApiError carries `status`; other failures carry none). */
export function httpStatus(e: unknown): number | null {
  if (isRecord(e) && typeof e.status === 'number') return e.status;
  if (e instanceof Error) {
    const m = /^Unexpected Response: (\d{3})/.exec(e.message);
    if (m?.[1]) return Number(m[1]);
  }
  return null;
}

/** Qdrant's own explanation (`{status: {error}}`), shortened. */
function qdrantDetail(e: unknown): string {
  if (isRecord(e) && isRecord(e.data) && isRecord(e.data.status) && typeof e.data.status.error === 'string') {
    return e.data.status.error.slice(0, 300);
  }
  if (isRecord(e) && typeof e.statusText === 'string' && e.statusText) return e.statusText;
  return e instanceof Error ? e.message.split('\n')[0] ?? e.message : String(e);
}

/** The system error code behind a failed fetch (ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET...), if any. */
function networkCode(e: unknown): string | null {
  if (!(e instanceof Error)) return null;
  const cause: unknown = e.cause;
  if (isRecord(cause) && typeof cause.code === 'string') return cause.code;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return 'timed out';
  if (e instanceof TypeError && /fetch failed|network/i.test(e.message)) {
    return isRecord(cause) && typeof cause.message === 'string' ? cause.message : 'fetch failed';
  }
  return null;
}

/**
 * Turns a client failure into one of our errors: unreachable, timed out, 5xx and
 * 429 are StoreUnavailableError (the API answers 503); a refused key is a
 * ConfigError; anything else names the request and Qdrant's reason. Messages
 * never carry the api key: it is scrubbed even if a proxy echoes it back.
 */
export function translateQdrantError(e: unknown, what: string, endpoint: QdrantEndpoint, apiKey: string | undefined, timeoutMs: number): Error {
  const scrub = (s: string) => (apiKey ? s.split(apiKey).join('[redacted]') : s);
  const where = endpoint.baseUrl;
  if (e instanceof QdrantClientTimeoutError) {
    return new StoreUnavailableError(
      scrub(`Vector store unavailable: Qdrant at ${where} did not answer within ${Math.round(timeoutMs / 1000)} s to ${what}; check its load and logs (docker compose logs qdrant)`),
    );
  }
  const code = networkCode(e);
  if (code) {
    const reason = code === 'ECONNREFUSED' ? 'Connection refused' : code;
    return new StoreUnavailableError(
      scrub(`Vector store unavailable: ${reason} (Qdrant at ${where}, trying to ${what}); start it with "docker compose up -d qdrant" or fix QDRANT_URL`),
    );
  }
  const status = httpStatus(e);
  if (status !== null && (status >= 500 || status === 429)) {
    return new StoreUnavailableError(scrub(`Vector store unavailable: Qdrant at ${where} answered ${status} to ${what}: ${qdrantDetail(e)}; see docker compose logs qdrant`));
  }
  if (status === 401 || status === 403) {
    const fix = apiKey
      ? 'set QDRANT_API_KEY to the key the server was started with (QDRANT__SERVICE__API_KEY)'
      : 'the server requires a key: set QDRANT_API_KEY';
    return new ConfigError(scrub(`Qdrant at ${where} refused the request to ${what} (${status}); ${fix}`));
  }
  if (status !== null) {
    return new Error(scrub(`Qdrant at ${where} rejected the request to ${what} (${status}): ${qdrantDetail(e)}`));
  }
  if (e instanceof Error) {
    e.message = scrub(e.message);
    return e;
  }
  return new Error(scrub(String(e)));
}
