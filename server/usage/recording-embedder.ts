import { EmbedderDecorator } from '../embedders/embedder-decorator.js';
import type { Embedder } from '../embedders/embedder.js';
import { MISTRAL_MAX_INPUT_TOKENS, truncateToTokens, type MistralEmbedder } from '../embedders/mistral.js';
import { estimateTokens } from '../indexing/tokens.js';
import type { UsageProvider } from './usage-store.js';
import type { TokenUsage } from './pricing.js';

/** Where an embedding call's tokens go; the UsageMeter is one. */
export interface EmbeddingUsageSink {
  record(entry: { provider: UsageProvider; model: string; usage: TokenUsage; estimated: boolean }): void;
}

export interface RecordingEmbedderOptions {
  provider: UsageProvider;
  model: string;
  /** Tokens one input costs, counted the way the provider bills what is actually sent. */
  tokensOf: (text: string) => number;
}

/**
 * Records the tokens of every call that reaches a paid embedder. It sits
 * inside the embedding cache, so texts answered from the cache cost nothing
 * here, as they cost nothing at Mistral.
 *
 * The count is an estimate: Mistral reports `usage.prompt_tokens`, but
 * MistralEmbedder returns only vectors. `tokensOf` applies the same truncation
 * and characters/4 estimate the chunker uses, which the usage report labels
 * as estimated.
 */
export class UsageRecordingEmbedder extends EmbedderDecorator {
  constructor(
    inner: Embedder,
    private readonly sink: EmbeddingUsageSink,
    private readonly options: RecordingEmbedderOptions,
  ) {
    super(inner);
  }

  async embed(texts: string[], kind: 'document' | 'query'): Promise<Float32Array[]> {
    const vectors = await this.inner.embed(texts, kind);
    // Only after success: a failed call is not billed (a partly failed one is under-counted).
    if (texts.length > 0) {
      const tokens = texts.reduce((n, t) => n + this.options.tokensOf(t), 0);
      this.sink.record({ provider: this.options.provider, model: this.options.model, usage: { input_tokens: tokens }, estimated: true });
    }
    return vectors;
  }
}

/** Wraps Mistral for `openEmbedder`'s `wrapPaid` hook: tokens counted as MistralEmbedder sends them (truncated, characters / 4). */
export function meteredMistral(sink: EmbeddingUsageSink): (inner: MistralEmbedder) => Embedder {
  return (inner) =>
    new UsageRecordingEmbedder(inner, sink, {
      provider: 'mistral',
      model: inner.model,
      tokensOf: (text) => estimateTokens(truncateToTokens(text, MISTRAL_MAX_INPUT_TOKENS)),
    });
}
