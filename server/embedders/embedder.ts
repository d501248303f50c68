import type { CircuitBreaker } from '../reliability/circuit-breaker.js';

/**
 * Id prefix of the weight-free local embedders (local.ts): lexical, not
 * semantic, so fusion trusts their ranking less (fusion/weights.ts).
 */
export const LOCAL_EMBEDDER_FAMILY = 'local-hash-';

/** Turns text into vectors. One file per implementation beside this one. */
export interface Embedder {
  /** Names the vector space: vectors of different ids must never be mixed in one store. */
  readonly id: string;
  readonly dimension: number;
  /** Largest number of inputs one `embed` call may take. */
  readonly maxBatch: number;
  /**
   * `query` vs `document` lets asymmetric models embed each side their way;
   * symmetric embedders ignore it.
   */
  embed(texts: string[], kind: 'document' | 'query'): Promise<Float32Array[]>;
  /** Remote embedders only: the provider's circuit breaker (health reads it). */
  readonly breaker?: CircuitBreaker;
}

/**
 * A paid provider's embedder: it reports the input tokens the provider billed,
 * so usage metering (usage/recording-embedder.ts) can wrap it without knowing
 * the adapter.
 */
export interface BilledEmbedder extends Embedder {
  /** The provider's model name, as the usage report shows it. */
  readonly model: string;
  /** Estimated tokens per input beyond which the adapter cuts the text before sending it (text/token-estimate.ts). */
  readonly maxInputTokens: number;
  /** Embeds and returns the input tokens billed, or null when the provider did not say. */
  embedCounted(texts: string[]): Promise<{ vectors: Float32Array[]; promptTokens: number | null }>;
}

export interface EmbedderInfo {
  id: string;
  dimension: number;
}

/** Embeds any number of texts, `batchSize` at a time (providers cap inputs per call). */
export async function embedInBatches(
  embedder: Embedder,
  texts: string[],
  batchSize: number,
  kind: 'document' | 'query' = 'document',
): Promise<Float32Array[]> {
  const size = Math.max(1, Math.min(batchSize, embedder.maxBatch));
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += size) {
    out.push(...(await embedder.embed(texts.slice(i, i + size), kind)));
  }
  return out;
}
