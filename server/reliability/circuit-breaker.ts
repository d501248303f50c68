/**
 * One circuit breaker per remote provider (Mistral, TEI, Qdrant, Claude).
 *
 * closed ──N consecutive failures──▶ open ──cool-down──▶ half-open ──success──▶ closed
 *                                     ▲                     │
 *                                     └──────failure────────┘
 *
 * While open, calls fail at once with ProviderUnavailableError instead of
 * each waiting out its own timeouts and retries against a provider that is
 * down; half-open lets exactly one trial call through to find out whether it
 * is back.
 */

import type { Config } from '../config/settings.js';

export type CircuitState = 'closed' | 'open' | 'half_open';

/**
 * How a finished call bears on the provider's health: `failure` (down, timed
 * out, 5xx), `success` (it answered, even if with a 4xx), or `neutral` (says
 * nothing about the provider, e.g. the caller cancelled or was rate-limited).
 */
export type CallOutcome = 'failure' | 'success' | 'neutral';

export interface BreakerSettings {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before a trial call is let through. */
  cooldownMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = { failureThreshold: 5, cooldownMs: 30_000 };

/** `reliability.failure_threshold` and `reliability.cooldown_ms`. */
export function breakerSettingsFrom(config: Config): BreakerSettings {
  const r = config.settings.reliability;
  return { failureThreshold: r.failure_threshold, cooldownMs: r.cooldown_ms };
}

export interface CircuitBreakerOptions extends Partial<BreakerSettings> {
  /** Names the provider in messages: "Mistral embeddings", "Qdrant vector store", "Claude". */
  name: string;
  /** Judges a thrown error; by default every error is a failure. */
  classify?: (error: unknown) => CallOutcome;
  /** Injectable clock (ms) so tests can move time. */
  now?: () => number;
}

export interface CircuitSnapshot {
  state: CircuitState;
  consecutive_failures: number;
  /** Message of the last failure (providers redact secrets before it gets here). */
  last_error: string | null;
  /** While open: milliseconds until a trial call is allowed. */
  retry_in_ms: number | null;
}

/** A provider is known to be down (its circuit is open); the API answers 503. */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
  constructor(
    readonly provider: string,
    /** The breaker's own reason, e.g. "circuit open after 5 failures; retrying in 28 s". */
    readonly reason: string,
    readonly lastError: string | null,
    readonly retryAfterMs: number,
  ) {
    super(`${provider} unavailable (${reason})${lastError ? `: ${lastError}` : ''}`);
  }
}

/** "1 failure", "5 failures". */
export function failureCount(n: number): string {
  return `${n} failure${n === 1 ? '' : 's'}`;
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // One line, bounded: it is repeated in every fail-fast message.
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

export class CircuitBreaker {
  readonly name: string;
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  private readonly classify: (error: unknown) => CallOutcome;
  private readonly now: () => number;
  /** 'open' stays stored after the cool-down; `state` reports it as half-open. */
  private stored: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private lastError: string | null = null;
  /** When the half-open trial call started; null when none is in flight. */
  private trialStartedAt: number | null = null;

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name;
    this.failureThreshold = Math.max(1, Math.floor(options.failureThreshold ?? DEFAULT_BREAKER_SETTINGS.failureThreshold));
    this.cooldownMs = Math.max(0, options.cooldownMs ?? DEFAULT_BREAKER_SETTINGS.cooldownMs);
    this.classify = options.classify ?? (() => 'failure');
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.stored === 'open' && this.now() - this.openedAt >= this.cooldownMs) return 'half_open';
    return this.stored;
  }

  snapshot(): CircuitSnapshot {
    const state = this.state;
    return {
      state,
      consecutive_failures: this.failures,
      last_error: this.lastError,
      retry_in_ms: state === 'open' ? this.remainingMs() : null,
    };
  }

  /**
   * Asks to make a call: returns when it may go through, throws
   * ProviderUnavailableError when it must not. The caller then reports the
   * outcome with `onSuccess`, `onFailure` or `release` (exactly one).
   */
  acquire(): void {
    const state = this.state;
    if (state === 'closed') return;
    if (state === 'open') throw this.unavailable(`circuit open after ${failureCount(this.failures)}; retrying in ${Math.ceil(this.remainingMs() / 1000)} s`);
    // Half-open: one trial at a time. A trial that never reported back within a
    // cool-down (its caller vanished) must not keep the circuit shut forever.
    const now = this.now();
    if (this.trialStartedAt !== null && now - this.trialStartedAt < this.cooldownMs) {
      throw this.unavailable(`circuit half-open after ${failureCount(this.failures)}; a trial request is checking whether it is back`);
    }
    this.stored = 'half_open';
    this.trialStartedAt = now;
  }

  onSuccess(): void {
    this.stored = 'closed';
    this.failures = 0;
    this.lastError = null;
    this.trialStartedAt = null;
  }

  onFailure(error: unknown): void {
    this.lastError = describe(error);
    // Calls that were already in flight when the circuit opened must not push the retry time back.
    if (this.stored === 'open') return;
    this.failures += 1;
    const wasTrial = this.stored === 'half_open';
    this.trialStartedAt = null;
    if (wasTrial || this.failures >= this.failureThreshold) {
      this.stored = 'open';
      this.openedAt = this.now();
    }
  }

  /** The call ended without saying anything about the provider; frees a half-open trial slot. */
  release(): void {
    this.trialStartedAt = null;
  }

  /** Reports a thrown error as its classification says. */
  record(error: unknown): void {
    const outcome = error instanceof ProviderUnavailableError ? 'neutral' : this.classify(error);
    if (outcome === 'failure') this.onFailure(error);
    else if (outcome === 'success') this.onSuccess();
    else this.release();
  }

  /** Runs one call through the breaker. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    this.acquire();
    let result: T;
    try {
      result = await call();
    } catch (error) {
      this.record(error);
      throw error;
    }
    this.onSuccess();
    return result;
  }

  private remainingMs(): number {
    return Math.max(0, this.cooldownMs - (this.now() - this.openedAt));
  }

  private unavailable(reason: string): ProviderUnavailableError {
    return new ProviderUnavailableError(this.name, reason, this.lastError, this.stored === 'open' ? this.remainingMs() : 0);
  }
}
