import { EmbedderDecorator } from '../embedders/embedder-decorator.js';
import { ChatModelError, type ChatEvent, type ChatModel, type ChatRequest, type ChatResult } from '../answers/chat-model.js';
import type { Embedder } from '../embedders/embedder.js';
import type { Metrics } from './metrics.js';

/**
 * Decorators applied at the composition root (services.ts), so providers and
 * services stay free of metrics calls and every implementation is measured the
 * same way.
 */

/**
 * Measures calls to an embedding provider. Wrapped inside the embedding cache,
 * so the series count what is actually sent to (and paid for at) the provider.
 */
export class InstrumentedEmbedder extends EmbedderDecorator {
  constructor(
    inner: Embedder,
    private readonly metrics: Metrics,
    private readonly provider: string,
  ) {
    super(inner);
  }

  async embed(texts: string[], kind: 'document' | 'query'): Promise<Float32Array[]> {
    const provider = this.provider;
    const stop = this.metrics.embeddingDuration.startTimer({ provider });
    try {
      const vectors = await this.inner.embed(texts, kind);
      this.metrics.embeddings.inc({ provider, status: 'ok' });
      this.metrics.embeddedTexts.inc({ provider }, texts.length);
      return vectors;
    } catch (error) {
      this.metrics.embeddings.inc({ provider, status: 'error' });
      throw error;
    } finally {
      stop();
    }
  }
}

/**
 * Measures answer-model requests: outcome, duration, tokens and cost. Labelled
 * with the configured model name (not the dated id the API echoes) so the
 * request, token and cost series line up.
 */
export class InstrumentedChatModel implements ChatModel {
  readonly model: string;

  constructor(
    private readonly inner: ChatModel,
    private readonly metrics: Metrics,
  ) {
    this.model = inner.model;
  }

  async *stream(request: ChatRequest): AsyncGenerator<ChatEvent, ChatResult, void> {
    const model = this.model;
    const stop = this.metrics.llmDuration.startTimer({ model });
    let result: ChatResult;
    try {
      // yield* forwards throw()/return() from the consumer, so abandoning the answer still stops the model.
      result = yield* this.inner.stream(request);
    } catch (error) {
      stop();
      this.metrics.llmRequests.inc({ model, status: error instanceof ChatModelError ? error.kind : 'error' });
      throw error;
    }
    stop();
    this.metrics.llmRequests.inc({ model, status: 'ok' });
    this.metrics.recordLlmUsage(model, result.usage);
    return result;
  }
}
