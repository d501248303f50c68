import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Usage } from '../../shared/api-types.js';
import type { IndexEventSource } from '../indexing/index-events.js';

/**
 * Every Prometheus series the server exposes, in one place so names, labels
 * and buckets stay consistent and the runbook has one list to read. One
 * `Metrics` per Services, each with its own Registry: tests (and any embedder
 * of the app) can run several side by side without duplicate-metric errors.
 *
 * Labels are bounded on purpose: HTTP routes are patterns
 * (`/api/library/jobs/:id`), never raw paths, and statuses are codes or error
 * kinds, never messages.
 */

/**
 * Prices tokens in USD. The usage tracker's `Pricing` (server/usage/pricing.ts:
 * built-in list prices, `pricing.models` in settings.yaml) fits, so the cost
 * series and the usage reports can never disagree.
 */
export interface CostModel {
  costOf(model: string, usage: Usage): number;
}

/** What the circuit-breaker gauge shows: 0 closed, 1 half-open, 2 open. */
export type BreakerState = 'closed' | 'half_open' | 'open';
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export interface BreakerReading {
  /** Short provider name: mistral, tei, qdrant, claude. */
  provider: string;
  state: BreakerState;
}

export interface MetricsOptions {
  /** Without one, `ailib_llm_cost_usd_total` stays empty. */
  pricing?: CostModel;
  /** process_* and nodejs_* series from prom-client; on by default. */
  defaultMetrics?: boolean;
}

/** Request durations: fast JSON calls up to a streamed answer opening after retries. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Provider calls include retries with backoff, hence the long tail. */
const EMBED_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SEARCH_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LLM_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];

export const TOKEN_KINDS = ['input', 'output', 'cache_read', 'cache_write'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly embeddings: Counter<'provider' | 'status'>;
  readonly embeddingDuration: Histogram<'provider'>;
  readonly embeddedTexts: Counter<'provider'>;
  readonly searches: Counter<'mode'>;
  readonly searchDuration: Histogram<'mode'>;
  readonly llmRequests: Counter<'model' | 'status'>;
  readonly llmDuration: Histogram<'model'>;
  readonly llmTokens: Counter<'model' | 'kind'>;
  readonly llmCost: Counter<'model'>;
  readonly indexJobs: Counter<'kind' | 'state'>;
  readonly indexedFiles: Counter<'status'>;
  readonly storePoints: Gauge;
  readonly circuitBreakerState: Gauge<'provider'>;

  private readonly pricing: CostModel | null;
  private pointCount: (() => Promise<number>) | null = null;
  private breakerSources: Array<() => Iterable<BreakerReading>> = [];

  constructor(options: MetricsOptions = {}) {
    this.pricing = options.pricing ?? null;
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: 'ailib_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'ailib_http_request_duration_seconds',
      help: 'Time until the response starts (for streamed answers: until the stream opens), by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.embeddings = new Counter({
      name: 'ailib_embeddings_total',
      help: 'Embedding calls to the provider (cache hits excluded), by provider and status (ok or error).',
      labelNames: ['provider', 'status'],
      registers,
    });
    this.embeddingDuration = new Histogram({
      name: 'ailib_embedding_duration_seconds',
      help: 'Duration of one embedding call to the provider, retries included.',
      labelNames: ['provider'],
      buckets: EMBED_BUCKETS,
      registers,
    });
    this.embeddedTexts = new Counter({
      name: 'ailib_embedded_texts_total',
      help: 'Texts sent to the embedding provider (after the cache), by provider.',
      labelNames: ['provider'],
      registers,
    });
    this.searches = new Counter({
      name: 'ailib_searches_total',
      help: 'Searches completed, by mode (hybrid, dense, keyword; similar for Find Similar).',
      labelNames: ['mode'],
      registers,
    });
    this.searchDuration = new Histogram({
      name: 'ailib_search_duration_seconds',
      help: 'Search duration including the query embedding, by mode.',
      labelNames: ['mode'],
      buckets: SEARCH_BUCKETS,
      registers,
    });
    this.llmRequests = new Counter({
      name: 'ailib_llm_requests_total',
      help: 'Answer-model requests, by model and status (ok, or the error kind: auth, rate_limit, overloaded, timeout, ...).',
      labelNames: ['model', 'status'],
      registers,
    });
    this.llmDuration = new Histogram({
      name: 'ailib_llm_request_duration_seconds',
      help: 'Duration of one answer-model request, until its stream ends.',
      labelNames: ['model'],
      buckets: LLM_BUCKETS,
      registers,
    });
    this.llmTokens = new Counter({
      name: 'ailib_llm_tokens_total',
      help: 'Answer-model tokens, by model and kind (input, output, cache_read, cache_write).',
      labelNames: ['model', 'kind'],
      registers,
    });
    this.llmCost = new Counter({
      name: 'ailib_llm_cost_usd_total',
      help: 'Estimated answer-model cost in USD (list prices, or pricing.models in settings.yaml).',
      labelNames: ['model'],
      registers,
    });
    this.indexJobs = new Counter({
      name: 'ailib_index_jobs_total',
      help: 'Index jobs entering each state (pending when queued, running, then done, failed or cancelled), by kind (all or path).',
      labelNames: ['kind', 'state'],
      registers,
    });
    this.indexedFiles = new Counter({
      name: 'ailib_indexed_files_total',
      help: 'Files handled by the indexer, by outcome (indexed, unchanged, skipped, failed, deleted).',
      labelNames: ['status'],
      registers,
    });
    const metrics = this;
    this.storePoints = new Gauge({
      name: 'ailib_store_points',
      help: 'Points (chunks) in the vector store, counted at scrape time; NaN when the store cannot be reached.',
      registers,
      async collect() {
        if (!metrics.pointCount) return;
        try {
          this.set(await metrics.pointCount());
        } catch {
          // A scrape must not fail because the store is down; NaN says "unknown" rather than a stale count.
          this.set(Number.NaN);
        }
      },
    });
    this.circuitBreakerState = new Gauge({
      name: 'ailib_circuit_breaker_state',
      help: 'Circuit breaker per provider: 0 closed, 1 half-open, 2 open.',
      labelNames: ['provider'],
      registers,
      collect() {
        // Rebuilt each scrape: a provider that is no longer configured must not linger.
        this.reset();
        for (const source of metrics.breakerSources) {
          for (const reading of source()) this.set({ provider: reading.provider }, BREAKER_VALUE[reading.state]);
        }
      },
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** How `ailib_store_points` is counted (VectorStore.count), read on each scrape. */
  observeStore(count: () => Promise<number>): void {
    this.pointCount = count;
  }

  /** Counts every file the indexer reports in `ailib_indexed_files_total`: runs' files and uploads alike. */
  observeIndexing(events: IndexEventSource): void {
    events.subscribe((event) => {
      if (event.type === 'file_done') this.indexedFiles.inc({ status: event.result.status });
    });
  }

  /** Adds circuit breakers to `ailib_circuit_breaker_state`, read on each scrape. */
  observeCircuitBreakers(source: () => Iterable<BreakerReading>): void {
    this.breakerSources.push(source);
  }

  /** Tokens and estimated cost of one answer. */
  recordLlmUsage(model: string, usage: Usage): void {
    const tokens: Record<TokenKind, number> = {
      input: usage.input_tokens,
      output: usage.output_tokens,
      cache_read: usage.cache_read_input_tokens,
      cache_write: usage.cache_creation_input_tokens,
    };
    for (const kind of TOKEN_KINDS) this.llmTokens.inc({ model, kind }, tokens[kind]);
    if (this.pricing) this.llmCost.inc({ model }, this.pricing.costOf(model, usage));
  }

  /** The exposition text for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
