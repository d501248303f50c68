import type { CircuitBreaker } from '../reliability/circuit-breaker.js';
import type { Embedder } from './embedder.js';

/**
 * A wrapper around an embedder (metrics, usage, cache) keeps the inner one's
 * identity: the same vector space, size, batch limit and circuit breaker. Only
 * `embed` differs, so each wrapper writes just that.
 */
export abstract class EmbedderDecorator implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly maxBatch: number;

  constructor(readonly inner: Embedder) {
    this.id = inner.id;
    this.dimension = inner.dimension;
    this.maxBatch = inner.maxBatch;
  }

  /** Health and the breaker gauge read the provider's breaker through whatever wraps it. */
  get breaker(): CircuitBreaker | undefined {
    return this.inner.breaker;
  }

  abstract embed(texts: string[], kind: 'document' | 'query'): Promise<Float32Array[]>;
}
