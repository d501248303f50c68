import { EmbedderDecorator } from '../embedders/embedder-decorator.js';
import type { BilledEmbedder, Embedder } from '../embedders/embedder.js';
import { estimateTokens, truncateToTokens } from '../text/token-estimate.js';
import type { UsageProvider } from './usage-store.js';
import type { TokenUsage } from './pricing.js';

/** Where an embedding call's tokens go; the UsageMeter is one. */
export interface EmbeddingUsageSink {
  record(entry: { provider: UsageProvider; model: string; usage: TokenUsage; estimated: boolean }): void;
}

/**
 * Records the tokens of every call that reaches Mistral. It sits inside the
 * embedding cache, so texts answered from the cache cost nothing here, as they
 * cost nothing at Mistral. The count is the `prompt_tokens` Mistral bills;
 * when a response carries none, the characters/4 estimate of what was sent
 * stands in, and the usage report labels it as estimated.
 */
export class MeteredMistralEmbedder extends EmbedderDecorator {
  constructor(
    private readonly mistral: BilledEmbedder,
    private readonly sink: EmbeddingUsageSink,
  ) {
    super(mistral);
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const { vectors, promptTokens } = await this.mistral.embedCounted(texts);
    // Only after success: a failed call is not billed (a partly failed one is under-counted).
    if (texts.length > 0) {
      const estimated = promptTokens === null;
      const tokens = promptTokens ?? texts.reduce((n, t) => n + estimateTokens(truncateToTokens(t, this.mistral.maxInputTokens)), 0);
      this.sink.record({ provider: 'mistral', model: this.mistral.model, usage: { input_tokens: tokens }, estimated });
    }
    return vectors;
  }
}

export function meteredMistral(sink: EmbeddingUsageSink): (inner: BilledEmbedder) => Embedder {
  return (inner) => new MeteredMistralEmbedder(inner, sink);
}
