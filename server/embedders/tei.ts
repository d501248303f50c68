import { isRecord } from '../../shared/guards.js';
import { parseRetryAfter } from '../../shared/retry-after.js';
import { ConfigError } from '../config/settings.js';
import type { BreakerSettings, CircuitBreaker } from '../reliability/circuit-breaker.js';
import type { Embedder } from './embedder.js';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_TIMEOUT_MS,
  EmbedderRequestError,
  EmbedderResponseError,
  Resilience,
  honoursRetryAfter,
  isRetryableStatus,
  summariseBody,
  toVectors,
  type RetryPolicy,
} from './resilience.js';

/** TEI's own default for --max-client-batch-size; larger batches get a 413. */
export const TEI_DEFAULT_MAX_BATCH = 32;

export interface TeiInfo {
  model_id: string;
  max_client_batch_size?: number;
  max_input_length?: number;
}

interface TeiCommonOptions {
  /** Base URL of the TEI server, e.g. http://127.0.0.1:8080. */
  url: string;
  maxBatch?: number;
  timeoutMs?: number;
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  breaker?: Partial<BreakerSettings>;
}

export interface TeiEmbedderOptions extends TeiCommonOptions {
  modelId: string;
  dimension: number;
}

export interface TeiConnectOptions extends TeiCommonOptions {
  /** When set, the server must serve this model. */
  modelId?: string;
  /** When set, no probe embedding is needed. */
  dimension?: number;
}

function baseUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.href.replace(/\/+$/, '');
  } catch {
    throw new ConfigError(`embeddings.tei_url: "${url}" is not a URL; set TEI_URL, e.g. http://127.0.0.1:8080`);
  }
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

function newResilience(options: TeiCommonOptions): Resilience {
  return new Resilience({
    provider: 'TEI',
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    retry: options.retry,
    breaker: options.breaker,
  });
}

/** Speaks TEI's HTTP API; every call goes through the shared retry/timeout/concurrency policy. */
class TeiClient {
  readonly base: string;
  readonly origin: string;

  constructor(
    url: string,
    readonly resilience: Resilience,
  ) {
    this.base = baseUrl(url);
    this.origin = new URL(this.base).origin;
  }

  info(): Promise<TeiInfo> {
    return this.resilience.run('GET /info', async (signal) => {
      const body = await this.call('GET', '/info', undefined, signal);
      if (!isRecord(body) || typeof body.model_id !== 'string' || body.model_id === '') {
        throw new EmbedderResponseError(`TEI at ${this.origin} answered /info without a model_id; check that TEI_URL points at Text Embeddings Inference`);
      }
      return {
        model_id: body.model_id,
        max_client_batch_size: positiveInt(body.max_client_batch_size),
        max_input_length: positiveInt(body.max_input_length),
      };
    });
  }

  /** One /embed request; `dimension` null accepts any consistent size (the probe). */
  embed(inputs: string[], dimension: number | null): Promise<Float32Array[]> {
    return this.resilience.run(`embed request (${inputs.length} inputs)`, async (signal) => {
      // truncate: TEI cuts over-long inputs to the model's max_input_length with its own
      // tokenizer instead of failing the whole batch with a 413/422.
      const rows = await this.call('POST', '/embed', { inputs, truncate: true }, signal);
      const first: unknown = Array.isArray(rows) ? rows[0] : undefined;
      const size = dimension ?? (Array.isArray(first) ? first.length : 0);
      return toVectors('TEI', rows, inputs.length, size, `check that TEI_URL (${this.origin}) points at Text Embeddings Inference`);
    });
  }

  private async call(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(this.base + path, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw new EmbedderRequestError(`Cannot reach TEI at ${this.origin}: ${networkDetail(error)}; check that it is running and TEI_URL`, null, true);
    }
    const text = await response.text();
    if (!response.ok) throw httpError(response.status, text, response.headers, path, this.origin);
    try {
      return JSON.parse(text);
    } catch {
      throw new EmbedderResponseError(`TEI at ${this.origin} answered ${path} with something that is not JSON; check that TEI_URL points at Text Embeddings Inference`);
    }
  }
}

function networkDetail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  const code = isRecord(cause) && typeof cause.code === 'string' ? cause.code : undefined;
  return code ? `${error.message} (${code})` : error.message;
}

function httpError(status: number, body: string, headers: Headers, path: string, origin: string): EmbedderRequestError {
  const detail = summariseBody(body);
  if (status === 413) {
    return new EmbedderRequestError(
      `TEI refused the batch (413): ${detail}; lower embeddings.batch_size or start TEI with a larger --max-client-batch-size`,
      status,
      false,
    );
  }
  if (status === 401 || status === 403) {
    return new EmbedderRequestError(`TEI at ${origin} refused the request (${status}): it was started with --api-key, which this server does not send; start it without one`, status, false);
  }
  if (isRetryableStatus(status)) {
    const retryAfterMs = honoursRetryAfter(status) ? parseRetryAfter(headers.get('retry-after')) : null;
    const message =
      status === 429
        ? `TEI is overloaded (429) on ${path}: ${detail}; lower embeddings.max_concurrent (MAX_CONCURRENT_EMBEDDINGS) or raise TEI's --max-concurrent-requests`
        : `TEI failed (${status}) on ${path}: ${detail}`;
    return new EmbedderRequestError(message, status, true, retryAfterMs);
  }
  return new EmbedderRequestError(`TEI rejected ${path} (${status}): ${detail}`, status, false);
}

/**
 * Hugging Face Text Embeddings Inference. The server decides the model, so the
 * id names the model it reports; `connect` asks it, the constructor trusts the
 * settings and checks them against /info before the first embedding.
 */
export class TeiEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly maxBatch: number;
  readonly modelId: string;
  private readonly client: TeiClient;
  private verified: Promise<void> | null = null;

  constructor(options: TeiEmbedderOptions, internal?: { client: TeiClient; verified: boolean }) {
    this.client = internal?.client ?? new TeiClient(options.url, newResilience(options));
    if (internal?.verified) this.verified = Promise.resolve();
    this.modelId = options.modelId;
    this.dimension = options.dimension;
    this.maxBatch = options.maxBatch ?? TEI_DEFAULT_MAX_BATCH;
    this.id = `tei:${options.modelId}:${options.dimension}`;
  }

  get resilience(): Resilience {
    return this.client.resilience;
  }

  get breaker(): CircuitBreaker {
    return this.client.resilience.breaker;
  }

  /** Asks the server which model it serves and, unless given, its vector size. */
  static async connect(options: TeiConnectOptions): Promise<TeiEmbedder> {
    const client = new TeiClient(options.url, newResilience(options));
    const info = await client.info();
    if (options.modelId && options.modelId !== info.model_id) {
      throw new ConfigError(modelMismatch(client.origin, info.model_id, options.modelId));
    }
    let dimension = options.dimension;
    if (dimension === undefined) {
      const [probe] = await client.embed(['dimension probe'], null);
      dimension = probe?.length ?? 0;
      if (dimension === 0) {
        throw new EmbedderResponseError(`TEI at ${client.origin} returned an empty vector; check the model it serves`);
      }
    }
    const serverMax = info.max_client_batch_size ?? TEI_DEFAULT_MAX_BATCH;
    return new TeiEmbedder(
      { ...options, modelId: info.model_id, dimension, maxBatch: Math.min(options.maxBatch ?? serverMax, serverMax) },
      { client, verified: true },
    );
  }

  /** Symmetric model: documents and queries are embedded alike. */
  async embed(texts: string[], _kind?: 'document' | 'query'): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    await this.verify();
    const requests: Array<Promise<Float32Array[]>> = [];
    for (let i = 0; i < texts.length; i += this.maxBatch) {
      requests.push(this.client.embed(texts.slice(i, i + this.maxBatch), this.dimension));
    }
    return (await Promise.all(requests)).flat();
  }

  /**
   * A TEI server swapped to another model of the same size would silently mix
   * vector spaces, so the configured model is checked once against /info.
   */
  private verify(): Promise<void> {
    if (!this.verified) {
      this.verified = this.client.info().then(
        (info) => {
          if (info.model_id !== this.modelId) throw new ConfigError(modelMismatch(this.client.origin, info.model_id, this.modelId));
        },
        (error: unknown) => {
          // Not cached: the next call asks again once the server is back.
          this.verified = null;
          throw error;
        },
      );
    }
    return this.verified;
  }
}

function modelMismatch(origin: string, served: string, configured: string): string {
  return `TEI at ${origin} serves "${served}" but embeddings.model is "${configured}"; set embeddings.model to "${served}" (and re-index) or point TEI_URL at the right server`;
}
