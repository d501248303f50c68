import type { Mistral } from '@mistralai/mistralai';
import type { EmbeddingResponse } from '@mistralai/mistralai/models/components';
import { isRecord } from '../../shared/guards.js';
import { parseRetryAfter } from '../../shared/retry-after.js';
import { ConfigError, type Env } from '../config/settings.js';
import { estimateTokens, truncateToTokens } from '../text/token-estimate.js';
import type { BreakerSettings, CircuitBreaker } from '../reliability/circuit-breaker.js';
import type { BilledEmbedder } from './embedder.js';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_TIMEOUT_MS,
  EmbedderRequestError,
  EmbedderResponseError,
  EmbedderTimeoutError,
  Resilience,
  honoursRetryAfter,
  isRetryableStatus,
  redact,
  summariseBody,
  toVectors,
  type RetryPolicy,
} from './resilience.js';

export const MISTRAL_EMBED_MODEL = 'mistral-embed';
export const MISTRAL_EMBED_DIMENSION = 1024;
export const CODESTRAL_DEFAULT_DIMENSION = 1536;
export const CODESTRAL_MAX_DIMENSION = 3072;
/** The API allows 512 inputs and 16,384 tokens per request; we stay under both with room for estimate error. */
export const MISTRAL_MAX_INPUTS = 128;
export const MISTRAL_MAX_REQUEST_TOKENS = 16_000;
/** Both embedding models take 8,192 tokens per input; the estimate is rough, so keep a margin. */
export const MISTRAL_MAX_INPUT_TOKENS = 8_000;

export interface MistralEmbedderOptions {
  apiKey: string;
  /** Where the key came from, so a 401 names the thing to fix. */
  keySource?: string;
  model?: string;
  dimension?: number;
  serverURL?: string;
  timeoutMs?: number;
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  breaker?: Partial<BreakerSettings>;
  maxInputs?: number;
  maxRequestTokens?: number;
}

/**
 * The SDK, imported on the first request: importing it costs the process
 * ~105 MB of memory (81 MB of it JavaScript heap, its generated schemas),
 * measured on Node 20, and a server on the local embedder, the default,
 * never calls it. Every MistralEmbedder shares the one import.
 */
type MistralSdk = { Mistral: typeof Mistral; errors: typeof import('@mistralai/mistralai/models/errors') };
let sdk: Promise<MistralSdk> | null = null;
function mistralSdk(): Promise<MistralSdk> {
  sdk ??= Promise.all([import('@mistralai/mistralai'), import('@mistralai/mistralai/models/errors')]).then(([main, errors]) => ({ Mistral: main.Mistral, errors }));
  return sdk;
}

export interface ResolvedKey {
  key: string;
  source: string;
}

/**
 * The first key found: `embeddings.api_key`, then the variable `embeddings.api_key_env_var`
 * names, then MISTRAL_API_KEY (README "Configuration"): an explicit setting beats the
 * environment, and a named variable lets one host keep keys for several servers.
 */
export function resolveMistralApiKey(embeddings: { api_key?: string | undefined; api_key_env_var?: string | undefined }, env: Env): ResolvedKey {
  if (embeddings.api_key) return { key: embeddings.api_key, source: 'embeddings.api_key' };
  const named = embeddings.api_key_env_var;
  const fromNamed = named ? env[named]?.trim() : undefined;
  if (named && fromNamed) return { key: fromNamed, source: named };
  const fromDefault = env.MISTRAL_API_KEY?.trim();
  if (fromDefault) return { key: fromDefault, source: 'MISTRAL_API_KEY' };
  throw new ConfigError('Mistral API key not found: set MISTRAL_API_KEY (or embeddings.api_key_env_var)');
}

/** Fixes the vector size for a model; only codestral-embed lets us choose it. */
export function resolveMistralModel(model: string, dimension: number | undefined): { dimension: number; outputDimension?: number } {
  if (model.startsWith('codestral-embed')) {
    const d = dimension ?? CODESTRAL_DEFAULT_DIMENSION;
    if (d > CODESTRAL_MAX_DIMENSION) {
      throw new ConfigError(`embeddings.dimension: ${d} is above ${CODESTRAL_MAX_DIMENSION}, the most ${model} produces; lower it`);
    }
    return { dimension: d, outputDimension: d };
  }
  if (model.startsWith(MISTRAL_EMBED_MODEL)) {
    if (dimension !== undefined && dimension !== MISTRAL_EMBED_DIMENSION) {
      throw new ConfigError(
        `embeddings.dimension: ${model} always produces ${MISTRAL_EMBED_DIMENSION} dimensions; remove the setting or use codestral-embed`,
      );
    }
    return { dimension: MISTRAL_EMBED_DIMENSION };
  }
  if (dimension === undefined) {
    throw new ConfigError(`embeddings.dimension: required for the Mistral model "${model}"; set it to the model's vector size`);
  }
  return { dimension };
}

/** Splits inputs, in order, into runs that respect both per-request limits. */
export function planBatches(texts: readonly string[], maxInputs: number, maxTokens: number): Array<{ start: number; end: number }> {
  const batches: Array<{ start: number; end: number }> = [];
  let start = 0;
  let tokens = 0;
  for (let i = 0; i < texts.length; i++) {
    const t = estimateTokens(texts[i] ?? '');
    if (i > start && (i - start >= maxInputs || tokens + t > maxTokens)) {
      batches.push({ start, end: i });
      start = i;
      tokens = 0;
    }
    tokens += t;
  }
  if (start < texts.length) batches.push({ start, end: texts.length });
  return batches;
}

/**
 * Mistral's embeddings API through the official SDK (its own retries stay off:
 * ours honour Retry-After and share one concurrency bound with every caller).
 * Key and client live in private fields so logging the embedder cannot print them.
 */
export class MistralEmbedder implements BilledEmbedder {
  readonly id: string;
  readonly dimension: number;
  readonly maxBatch = MISTRAL_MAX_INPUTS;
  readonly maxInputTokens = MISTRAL_MAX_INPUT_TOKENS;
  readonly model: string;
  readonly resilience: Resilience;
  #client: Promise<Mistral> | null = null;
  readonly #apiKey: string;
  readonly #keySource: string;
  readonly #outputDimension: number | undefined;
  readonly #maxInputs: number;
  readonly #maxRequestTokens: number;
  readonly #serverOrigin: string;
  readonly #serverURL: string | undefined;

  constructor(options: MistralEmbedderOptions) {
    this.model = options.model ?? MISTRAL_EMBED_MODEL;
    const { dimension, outputDimension } = resolveMistralModel(this.model, options.dimension);
    this.dimension = dimension;
    this.#outputDimension = outputDimension;
    this.id = `mistral:${this.model}:${dimension}`;
    this.#apiKey = options.apiKey;
    this.#keySource = options.keySource ?? 'MISTRAL_API_KEY';
    this.#maxInputs = Math.min(options.maxInputs ?? MISTRAL_MAX_INPUTS, MISTRAL_MAX_INPUTS);
    this.#maxRequestTokens = Math.min(options.maxRequestTokens ?? MISTRAL_MAX_REQUEST_TOKENS, MISTRAL_MAX_REQUEST_TOKENS);
    this.#serverOrigin = originOf(options.serverURL ?? 'https://api.mistral.ai');
    this.#serverURL = options.serverURL;
    this.resilience = new Resilience({
      provider: 'Mistral',
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
      retry: options.retry,
      breaker: options.breaker,
    });
  }

  get breaker(): CircuitBreaker {
    return this.resilience.breaker;
  }

  /** Symmetric model: documents and queries are embedded alike. */
  async embed(texts: string[], _kind?: 'document' | 'query'): Promise<Float32Array[]> {
    return (await this.embedCounted(texts)).vectors;
  }

  /**
   * Embeds and returns the input tokens Mistral billed (`usage.prompt_tokens`,
   * summed over the requests), or null when a response did not say.
   */
  async embedCounted(texts: string[]): Promise<{ vectors: Float32Array[]; promptTokens: number | null }> {
    if (texts.length === 0) return { vectors: [], promptTokens: 0 };
    // Chunks are far below the per-input limit; only a pathological input is cut, and
    // sending it whole would fail its whole batch with a 400. Its head still represents it.
    const inputs = texts.map((t) => truncateToTokens(t, this.maxInputTokens));
    const batches = planBatches(inputs, this.#maxInputs, this.#maxRequestTokens);
    const parts = await Promise.all(
      batches.map(({ start, end }) =>
        this.resilience.run(`embeddings request (${end - start} inputs)`, (signal) => this.request(inputs.slice(start, end), signal)),
      ),
    );
    const counted = parts.every((p) => p.promptTokens !== null);
    return { vectors: parts.flatMap((p) => p.vectors), promptTokens: counted ? parts.reduce((n, p) => n + (p.promptTokens ?? 0), 0) : null };
  }

  private async request(inputs: string[], signal: AbortSignal): Promise<{ vectors: Float32Array[]; promptTokens: number | null }> {
    const { errors } = await mistralSdk();
    let response: EmbeddingResponse;
    try {
      response = await (await this.client()).embeddings.create(
        this.#outputDimension === undefined
          ? { model: this.model, inputs }
          : { model: this.model, inputs, outputDimension: this.#outputDimension },
        { signal },
      );
    } catch (error) {
      throw this.translate(error, errors);
    }
    const fix = `check that ${this.#serverOrigin} is the Mistral API (embeddings.server_url)`;
    const data = response.data;
    if (!Array.isArray(data)) throw new EmbedderResponseError(`Mistral returned no embeddings list; ${fix}`);
    const ordered = [...data];
    if (ordered.every((d) => typeof d.index === 'number')) {
      ordered.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
      if (ordered.some((d, i) => d.index !== i)) {
        throw new EmbedderResponseError(`Mistral returned embeddings with indexes that do not match the ${inputs.length} inputs; ${fix}`);
      }
    }
    const vectors = toVectors(
      'Mistral',
      ordered.map((d) => d.embedding),
      inputs.length,
      this.dimension,
      fix,
    );
    // The SDK reads a missing count as 0, and a non-empty request never costs 0 tokens: 0 means "not reported".
    const promptTokens = response.usage?.promptTokens;
    return { vectors, promptTokens: typeof promptTokens === 'number' && Number.isFinite(promptTokens) && promptTokens > 0 ? promptTokens : null };
  }

  /** The SDK client, made on the first request (see mistralSdk). */
  private client(): Promise<Mistral> {
    const apiKey = this.#apiKey;
    const serverURL = this.#serverURL;
    this.#client ??= mistralSdk().then(({ Mistral: Client }) => new Client(serverURL ? { apiKey, serverURL } : { apiKey }));
    return this.#client;
  }

  /** Turns SDK errors into ours: retryable or not, with a message that names the fix and never the key. */
  private translate(error: unknown, errors: MistralSdk['errors']): Error {
    const { ConnectionError, MistralError, RequestAbortedError, RequestTimeoutError, ResponseValidationError, UnexpectedClientError } = errors;
    const clean = (text: string) => redact(text, [this.#apiKey]);
    if (error instanceof ResponseValidationError || (error instanceof MistralError && error.statusCode < 300)) {
      const detail = (error instanceof ResponseValidationError ? schemaIssue(error.cause) : undefined) ?? summariseBody(error.message, 200);
      return new EmbedderResponseError(
        clean(`Mistral returned an embeddings response that cannot be read (${detail}); check that ${this.#serverOrigin} is the Mistral API (embeddings.server_url)`),
      );
    }
    if (error instanceof MistralError) {
      const status = error.statusCode;
      const detail = clean(summariseBody(error.body));
      if (status === 401) {
        return new EmbedderRequestError(`Mistral rejected the API key (401): check ${this.#keySource}`, status, false);
      }
      if (status === 403) {
        return new EmbedderRequestError(
          `Mistral refused access (403) to model "${this.model}": check the key's workspace and plan, or embeddings.model`,
          status,
          false,
        );
      }
      if (isRetryableStatus(status)) {
        const retryAfterMs = honoursRetryAfter(status) ? parseRetryAfter(error.headers.get('retry-after')) : null;
        const message =
          status === 429
            ? `Mistral rate limit reached (429): ${detail}; lower embeddings.max_concurrent (MAX_CONCURRENT_EMBEDDINGS) or raise the workspace's rate limit`
            : `Mistral server error (${status}): ${detail}`;
        return new EmbedderRequestError(message, status, true, retryAfterMs);
      }
      return new EmbedderRequestError(
        `Mistral rejected the embeddings request (${status}): ${detail}; check embeddings.model and embeddings.dimension`,
        status,
        false,
      );
    }
    if (error instanceof RequestTimeoutError) {
      return new EmbedderTimeoutError(`Mistral embeddings request timed out; raise embeddings.timeout_ms or check ${this.#serverOrigin}`);
    }
    if (error instanceof ConnectionError || error instanceof UnexpectedClientError) {
      return new EmbedderRequestError(
        clean(`Cannot reach Mistral at ${this.#serverOrigin}: ${error.message}; check the network or embeddings.server_url`),
        null,
        true,
      );
    }
    if (error instanceof RequestAbortedError) {
      return new EmbedderRequestError('Mistral embeddings request was aborted', null, false);
    }
    const message = error instanceof Error ? error.message : String(error);
    return new Error(clean(`Mistral embeddings request failed: ${message}`));
  }
}

/** The first problem the SDK's response schema found, e.g. "data: expected array". */
function schemaIssue(cause: unknown): string | undefined {
  if (!isRecord(cause) || !Array.isArray(cause.issues)) return undefined;
  const first: unknown = cause.issues[0];
  if (!isRecord(first)) return undefined;
  const where = Array.isArray(first.path) && first.path.length > 0 ? first.path.join('.') : 'body';
  return `${where}: ${typeof first.message === 'string' ? first.message : 'invalid'}`;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    throw new ConfigError(`embeddings.server_url: "${url}" is not a URL; use e.g. https://api.mistral.ai`);
  }
}

