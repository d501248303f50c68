import { isRecord } from '../../shared/guards.js';
import { DomainError } from '../errors/domain-error.js';
import { CallPolicy, type RetrySettings } from '../reliability/call-policy.js';
import type { BreakerSettings, CallOutcome, CircuitBreaker } from '../reliability/circuit-breaker.js';

/**
 * Shared by every remote embedder (Mistral, TEI): one place decides what is
 * retried, how long to wait, how long one request may take and how many run at
 * once, so the providers cannot drift apart in behaviour. The limit, the
 * breaker and the retry loop are the server-wide CallPolicy.
 */

export interface RetryPolicy extends RetrySettings {
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

/**
 * An outage (unreachable, busy, 5xx) is `embedder_unavailable` (503, retry
 * later); any other answer proves the provider is up and refused the request
 * (`embedder_error`, 502). The code is fixed where the error is raised, so the
 * HTTP mapper needs nothing from the embedders (docs/architecture.md).
 */
function requestErrorCode(status: number | null): 'embedder_unavailable' | 'embedder_error' {
  return status === null || status === 429 || status >= 500 ? 'embedder_unavailable' : 'embedder_error';
}

/** A provider answered with an HTTP error, or could not be reached (`status` null). */
export class EmbedderRequestError extends DomainError {
  override name = 'EmbedderRequestError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
    /** Only set for 429/503 answers that carried a usable Retry-After. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(requestErrorCode(status), message);
  }
}

/** One request took longer than the configured timeout: the provider counts as down. */
export class EmbedderTimeoutError extends DomainError {
  override name = 'EmbedderTimeoutError';
  constructor(message: string) {
    super('embedder_unavailable', message);
  }
}

/** The provider answered 2xx but with something we cannot use; retrying would not fix it. */
export class EmbedderResponseError extends DomainError {
  override name = 'EmbedderResponseError';
  constructor(message: string) {
    super('embedder_error', message);
  }
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

/** The embedders' wait for a Retry-After: only on an answer that may be retried. */
function retryAfterOf(error: unknown): number | null {
  return error instanceof EmbedderRequestError && error.retryable ? error.retryAfterMs : null;
}

/**
 * An embedder's CallPolicy (reliability/call-policy.ts) with what only
 * embedders add: a timeout per attempt, a Retry-After longer than we wait
 * turned into a refusal, and the attempt count in the final message.
 */
export class Resilience {
  readonly provider: string;
  readonly timeoutMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly policy: CallPolicy;

  constructor(options: ResilienceOptions) {
    this.provider = options.provider;
    this.timeoutMs = options.timeoutMs;
    const { retries, minDelayMs, maxDelayMs, maxRetryAfterMs } = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.maxRetryAfterMs = maxRetryAfterMs;
    this.policy = new CallPolicy({
      name: `${options.provider} embeddings`,
      breaker: options.breaker,
      classify: embedderOutcome,
      concurrency: options.concurrency,
      // Failed attempts count, so a dead provider trips the breaker within one request's retries.
      retry: { retries, minDelayMs, maxDelayMs, retryable: isRetryable, retryAfterMs: retryAfterOf },
    });
  }

  get breaker(): CircuitBreaker {
    return this.policy.breaker;
  }

  /** One logical request: a concurrency slot, then up to `retries + 1` attempts, each with its own timeout. */
  async run<T>(what: string, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const describeTimeout = () =>
      `${this.provider} ${what} timed out after ${this.timeoutMs} ms; check that the server is up, or raise embeddings.timeout_ms`;
    let attempts = 0;
    try {
      return await this.policy.run(async () => {
        attempts++;
        try {
          return await withTimeout(attempt, this.timeoutMs, describeTimeout);
        } catch (error) {
          throw this.refuseLongWait(error);
        }
      });
    } catch (error) {
      if (attempts > 1 && error instanceof Error && isRetryable(error)) {
        error.message = `${error.message} (gave up after ${attempts} attempts)`;
      }
      throw error;
    }
  }

  /** A server asking us to wait longer than maxRetryAfterMs is treated as down, not as busy: no retry. */
  private refuseLongWait(error: unknown): unknown {
    const wait = retryAfterOf(error);
    if (!(error instanceof EmbedderRequestError) || wait === null || wait <= this.maxRetryAfterMs) return error;
    return new EmbedderRequestError(
      `${error.message}; the server asked to wait ${Math.ceil(wait / 1000)} s, longer than the ${Math.ceil(this.maxRetryAfterMs / 1000)} s we wait, so try again later`,
      error.status,
      false,
    );
  }
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
