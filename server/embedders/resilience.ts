import pLimit, { type LimitFunction } from 'p-limit';
import pRetry, { AbortError } from 'p-retry';
import { isRecord } from '../../shared/guards.js';
import { CircuitBreaker, type BreakerSettings, type CallOutcome } from '../reliability/circuit-breaker.js';

/**
 * Shared by every remote embedder (Mistral, TEI): one place decides what is
 * retried, how long to wait, how long one request may take and how many run at
 * once, so the providers cannot drift apart in behaviour.
 */

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff delay; doubles per retry, then randomised ×1–2 (jitter). */
  minDelayMs: number;
  maxDelayMs: number;
  /** A server asking us to wait longer than this is treated as down, not as busy. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 4,
  minDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
};

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_CONCURRENCY = 4;

/** A provider answered with an HTTP error, or could not be reached (`status` null). */
export class EmbedderRequestError extends Error {
  override name = 'EmbedderRequestError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
    /** Only set for 429/503 answers that carried a usable Retry-After. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/** One request took longer than the configured timeout. */
export class EmbedderTimeoutError extends Error {
  override name = 'EmbedderTimeoutError';
}

/** The provider answered 2xx but with something we cannot use; retrying would not fix it. */
export class EmbedderResponseError extends Error {
  override name = 'EmbedderResponseError';
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Retry-After is only meaningful on these (RFC 9110 §10.2.3). */
export function honoursRetryAfter(status: number): boolean {
  return status === 429 || status === 503;
}

export interface ResilienceOptions {
  /** Names the provider in error messages ("Mistral", "TEI"). */
  provider: string;
  timeoutMs: number;
  concurrency: number;
  retry?: Partial<RetryPolicy>;
  /** The provider's circuit breaker; defaults apply when left out. */
  breaker?: Partial<BreakerSettings>;
}

/** Runs `attempt`, aborting it through its signal after `timeoutMs`. */
export async function withTimeout<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  describe: () => string,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const err = new EmbedderTimeoutError(describe());
      // Racing as well as aborting: a client that ignores the signal must still not hang us.
      reject(err);
      controller.abort(err);
    }, timeoutMs);
  });
  try {
    return await Promise.race([attempt(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function isRetryable(error: unknown): boolean {
  if (error instanceof EmbedderTimeoutError) return true;
  return error instanceof EmbedderRequestError && error.retryable;
}

/**
 * What one attempt's error says about the provider: unreachable, timed out or
 * 5xx means down; a 429 means busy, not down (retries and Retry-After handle
 * it); any other answer proves it is up.
 */
export function embedderOutcome(error: unknown): CallOutcome {
  if (error instanceof EmbedderTimeoutError) return 'failure';
  if (error instanceof EmbedderRequestError) {
    if (error.status === null) return error.retryable ? 'failure' : 'neutral';
    if (error.status === 429) return 'neutral';
    return error.status >= 500 ? 'failure' : 'success';
  }
  if (error instanceof EmbedderResponseError) return 'success';
  return 'failure';
}

/** A provider outage (as opposed to a refused request): the API answers 503 for these. */
export function isEmbedderOutage(error: unknown): boolean {
  return embedderOutcome(error) !== 'success' && (error instanceof EmbedderTimeoutError || error instanceof EmbedderRequestError);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Resilience {
  readonly provider: string;
  readonly timeoutMs: number;
  readonly policy: RetryPolicy;
  /** Counts failed attempts, so a dead provider trips it within one request's retries. */
  readonly breaker: CircuitBreaker;
  private readonly limit: LimitFunction;

  constructor(options: ResilienceOptions) {
    this.provider = options.provider;
    this.timeoutMs = options.timeoutMs;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.limit = pLimit(Math.max(1, Math.floor(options.concurrency)));
    this.breaker = new CircuitBreaker({ name: `${options.provider} embeddings`, ...options.breaker, classify: embedderOutcome });
  }

  /** Requests currently holding a concurrency slot (including their retry waits). */
  get activeCount(): number {
    return this.limit.activeCount;
  }

  /**
   * One logical request: waits for a concurrency slot, then tries up to
   * `retries + 1` times. The slot is kept while waiting to retry so a rate-limited
   * provider sees less traffic, not the same traffic from other callers.
   */
  run<T>(what: string, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.limit(() => this.retrying(what, attempt));
  }

  private async retrying<T>(what: string, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { retries, minDelayMs, maxDelayMs, maxRetryAfterMs } = this.policy;
    const describeTimeout = () =>
      `${this.provider} ${what} timed out after ${this.timeoutMs} ms; check that the server is up, or raise embeddings.timeout_ms`;
    let attempts = 0;
    try {
      return await pRetry(
        async () => {
          attempts++;
          try {
            this.breaker.acquire();
          } catch (open) {
            // An open circuit ends the retries too: waiting on a provider known to be down helps nobody.
            throw new AbortError(open instanceof Error ? open : new Error(String(open)));
          }
          try {
            const result = await withTimeout(attempt, this.timeoutMs, describeTimeout);
            this.breaker.onSuccess();
            return result;
          } catch (error) {
            this.breaker.record(error);
            if (error instanceof EmbedderRequestError && error.retryAfterMs !== null && error.retryAfterMs > maxRetryAfterMs) {
              throw new AbortError(
                new EmbedderRequestError(
                  `${error.message}; the server asked to wait ${Math.ceil(error.retryAfterMs / 1000)} s, longer than the ${Math.ceil(maxRetryAfterMs / 1000)} s we wait, so try again later`,
                  error.status,
                  false,
                ),
              );
            }
            if (!isRetryable(error)) throw new AbortError(error instanceof Error ? error : new Error(String(error)));
            throw error;
          }
        },
        {
          retries,
          factor: 2,
          minTimeout: minDelayMs,
          maxTimeout: maxDelayMs,
          randomize: true,
          shouldRetry: ({ attemptNumber }) => attemptNumber <= retries,
          // A server-given wait replaces our backoff rather than adding to it.
          shouldConsumeRetry: ({ error }) => retryAfterOf(error) === null,
          onFailedAttempt: async ({ error, attemptNumber }) => {
            const wait = retryAfterOf(error);
            if (wait === null || attemptNumber > retries) return;
            // Up to 10% extra (max 1 s) so callers told the same instant do not return together.
            await sleep(wait + Math.random() * Math.min(1000, wait * 0.1));
          },
        },
      );
    } catch (error) {
      if (attempts > 1 && error instanceof Error && isRetryable(error)) {
        error.message = `${error.message} (gave up after ${attempts} attempts)`;
      }
      throw error;
    }
  }
}

function retryAfterOf(error: unknown): number | null {
  return error instanceof EmbedderRequestError && error.retryable ? error.retryAfterMs : null;
}


/**
 * Checks a provider's vectors before anyone stores them: a short, long or
 * non-numeric vector would silently corrupt a store, so it fails loudly here.
 */
export function toVectors(provider: string, rows: unknown, expectedCount: number, dimension: number, fix: string): Float32Array[] {
  if (!Array.isArray(rows)) {
    throw new EmbedderResponseError(`${provider} returned no embeddings list; ${fix}`);
  }
  if (rows.length !== expectedCount) {
    throw new EmbedderResponseError(`${provider} returned ${rows.length} embeddings for ${expectedCount} inputs; ${fix}`);
  }
  return rows.map((row: unknown, i) => {
    if (!Array.isArray(row)) throw new EmbedderResponseError(`${provider} returned no vector for input ${i}; ${fix}`);
    if (row.length !== dimension) {
      throw new EmbedderResponseError(
        `${provider} returned a vector of ${row.length} dimensions for input ${i}, expected ${dimension}; check embeddings.dimension and the model`,
      );
    }
    const vector = new Float32Array(dimension);
    for (let j = 0; j < dimension; j++) {
      const v: unknown = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new EmbedderResponseError(`${provider} returned a non-numeric value in the vector for input ${i}; ${fix}`);
      }
      vector[j] = v;
    }
    return vector;
  });
}

/** Keeps secrets out of messages built from provider answers, which may echo what we sent. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** Shortens a provider's error body for a one-line message. */
export function summariseBody(body: string, max = 300): string {
  let text = body.trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) {
      for (const key of ['message', 'error', 'detail']) {
        const v = parsed[key];
        if (typeof v === 'string' && v !== '') {
          text = v;
          break;
        }
        if (v !== undefined && v !== null) {
          text = JSON.stringify(v);
          break;
        }
      }
    }
  } catch {
    // Not JSON: the raw text is the best we have.
  }
  text = text.replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max)}…` : text || '(empty body)';
}
