import pLimit, { type LimitFunction } from 'p-limit';
import pRetry, { AbortError } from 'p-retry';
import { CircuitBreaker, ProviderUnavailableError, type BreakerSettings, type CallOutcome } from './circuit-breaker.js';

/**
 * How the server calls one remote dependency (an embedding provider, Qdrant,
 * Claude): at most `concurrency` calls at once, each behind the dependency's
 * circuit breaker, and, where the dependency's errors say a retry can help,
 * retried with backoff or after the wait the dependency asked for. One object
 * per dependency, configured with that dependency's rules, so the three do not
 * drift apart (docs/architecture.md, "The layers of server/"). Built on
 * p-limit and p-retry rather than a resilience library: the breaker's
 * three-way verdict (failure, success, neutral) and its trial-slot timeout
 * are ours (circuit-breaker.ts).
 */

export interface RetrySettings {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff delay; doubles per retry, then randomised ×1–2 (jitter). */
  minDelayMs: number;
  maxDelayMs: number;
}

export interface RetryRule extends RetrySettings {
  /** Whether a failed attempt is worth another; an open circuit never is. */
  retryable: (error: unknown) => boolean;
  /** The wait the dependency asked for (Retry-After), replacing the backoff; null when it named none. */
  retryAfterMs?: (error: unknown) => number | null;
}

export interface CallPolicyOptions {
  /** Names the dependency in the breaker's messages: "Mistral embeddings", "Qdrant vector store", "Claude". */
  name: string;
  breaker?: Partial<BreakerSettings>;
  /** Judges a thrown error for the breaker; by default every error is a failure. */
  classify?: (error: unknown) => CallOutcome;
  /** Calls in flight at once, retry waits included; unbounded when left out. */
  concurrency?: number;
  /** Left out: one attempt per call. */
  retry?: RetryRule;
  /** Injectable clock (ms) for the breaker. */
  now?: () => number;
}

/**
 * One admitted call that is not a single promise (a stream the caller reads
 * piece by piece). Exactly one verdict counts: the first; later ones are
 * ignored, so a `finally { permit.release() }` cannot undo a recorded outcome.
 */
export interface Permit {
  succeeded(): void;
  /** Judged by the policy's `classify`. */
  failed(error: unknown): void;
  /** Ended without saying anything about the dependency; frees a half-open trial slot. */
  release(): void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export class CallPolicy {
  readonly breaker: CircuitBreaker;
  private readonly limit: LimitFunction | null;
  private readonly retry: RetryRule | null;

  constructor(options: CallPolicyOptions) {
    this.breaker = new CircuitBreaker({ ...options.breaker, name: options.name, classify: options.classify, now: options.now });
    this.limit = options.concurrency === undefined ? null : pLimit(Math.max(1, Math.floor(options.concurrency)));
    this.retry = options.retry ?? null;
  }

  /**
   * One logical call: waits for a slot, then makes up to `retries + 1`
   * attempts, each admitted by the breaker. The slot is kept while waiting to
   * retry, so a busy dependency sees less traffic, not the same traffic from
   * other callers.
   */
  run<T>(attempt: () => Promise<T>): Promise<T> {
    const work = () => (this.retry === null ? this.breaker.run(attempt) : this.retrying(attempt, this.retry));
    return this.limit === null ? work() : this.limit(work);
  }

  /**
   * Admits a call that `run` cannot wrap (a stream): throws
   * ProviderUnavailableError while the circuit is open, else returns the
   * permit the caller reports the outcome on. It takes no concurrency slot,
   * so only an unbounded policy may hand it out.
   */
  admit(): Permit {
    if (this.limit !== null) throw new Error(`${this.breaker.name}: admit() holds no concurrency slot; use run() for a bounded dependency`);
    this.breaker.acquire();
    let reported = false;
    const report = (verdict: () => void) => {
      if (reported) return;
      reported = true;
      verdict();
    };
    return {
      succeeded: () => report(() => this.breaker.onSuccess()),
      failed: (error) => report(() => this.breaker.record(error)),
      release: () => report(() => this.breaker.release()),
    };
  }

  private retrying<T>(attempt: () => Promise<T>, rule: RetryRule): Promise<T> {
    const { retries, minDelayMs, maxDelayMs } = rule;
    const retryAfterOf = (error: unknown): number | null => (rule.retryAfterMs && rule.retryable(error) ? rule.retryAfterMs(error) : null);
    return pRetry(
      async () => {
        try {
          return await this.breaker.run(attempt);
        } catch (error) {
          // An open circuit ends the retries too: waiting on a dependency known to be down helps nobody.
          if (error instanceof ProviderUnavailableError || !rule.retryable(error)) throw new AbortError(asError(error));
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
        // A dependency-given wait replaces our backoff rather than adding to it.
        shouldConsumeRetry: ({ error }) => retryAfterOf(error) === null,
        onFailedAttempt: async ({ error, attemptNumber }) => {
          const wait = retryAfterOf(error);
          if (wait === null || attemptNumber > retries) return;
          // Up to 10% extra (max 1 s) so callers told the same instant do not return together.
          await sleep(wait + Math.random() * Math.min(1000, wait * 0.1));
        },
      },
    );
  }
}
