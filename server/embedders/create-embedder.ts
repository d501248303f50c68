import path from 'node:path';
import type { Config } from '../config/settings.js';
import { ConfigError } from '../config/settings.js';
import { breakerSettingsFrom } from '../reliability/circuit-breaker.js';
import { CachedEmbedder, EMBEDDING_CACHE_FILE } from './cached.js';
import type { BilledEmbedder, Embedder } from './embedder.js';
import { LocalEmbedder } from './local.js';
import { MISTRAL_EMBED_MODEL, MistralEmbedder, resolveMistralApiKey, type MistralEmbedderOptions } from './mistral.js';
import { TEI_DEFAULT_MAX_BATCH, TeiEmbedder, type TeiConnectOptions } from './tei.js';

/** The schema's default model belongs to the local embedder; for a remote provider it means "not chosen". */
const LOCAL_MODEL = 'local-hash-v1';

function chosenModel(config: Config): string | undefined {
  const model = config.settings.embeddings.model;
  return model === LOCAL_MODEL ? undefined : model;
}

export function mistralOptions(config: Config): MistralEmbedderOptions {
  const e = config.settings.embeddings;
  const { key, source } = resolveMistralApiKey(e, config.env);
  return {
    apiKey: key,
    keySource: source,
    model: chosenModel(config) ?? MISTRAL_EMBED_MODEL,
    dimension: e.dimension,
    serverURL: config.env.MISTRAL_SERVER_URL?.trim() || e.server_url,
    timeoutMs: e.timeout_ms,
    concurrency: e.max_concurrent,
    breaker: breakerSettingsFrom(config),
  };
}

export function teiOptions(config: Config): TeiConnectOptions {
  const e = config.settings.embeddings;
  const url = config.env.TEI_URL?.trim() || e.tei_url;
  if (!url) throw new ConfigError('embeddings.tei_url: required for the tei provider; set TEI_URL (e.g. http://127.0.0.1:8080)');
  return {
    url,
    modelId: chosenModel(config),
    dimension: e.dimension,
    maxBatch: e.batch_size,
    timeoutMs: e.timeout_ms,
    concurrency: e.max_concurrent,
    breaker: breakerSettingsFrom(config),
  };
}

/** Remote vectors cost money or time; the local embedder is cheaper than the cache lookup. */
function cached(inner: Embedder, config: Config): Embedder {
  return new CachedEmbedder(inner, { file: path.join(config.paths.data, EMBEDDING_CACHE_FILE) });
}

export interface EmbedderHooks {
  /** Wraps the paid provider inside the cache, so usage recording sees only the texts actually sent. */
  wrapPaid?: (inner: BilledEmbedder) => Embedder;
  /** Wraps every provider, local included (inside the cache, around `wrapPaid`): metrics see the calls that reach it. */
  wrapProvider?: (inner: Embedder) => Embedder;
}

function provided(inner: Embedder, hooks: EmbedderHooks): Embedder {
  return hooks.wrapProvider ? hooks.wrapProvider(inner) : inner;
}

/**
 * Builds the configured embedder without network calls. TEI then needs
 * embeddings.model and embeddings.dimension; `openEmbedder` can ask TEI instead.
 */
export function createEmbedder(config: Config, hooks: EmbedderHooks = {}): Embedder {
  const provider = config.settings.embeddings.provider;
  switch (provider) {
    case 'local':
      return provided(new LocalEmbedder(), hooks);
    case 'mistral': {
      const mistral = new MistralEmbedder(mistralOptions(config));
      return cached(provided(hooks.wrapPaid ? hooks.wrapPaid(mistral) : mistral, hooks), config);
    }
    case 'tei': {
      const options = teiOptions(config);
      if (!options.modelId || options.dimension === undefined) {
        throw new ConfigError(
          'embeddings: the tei provider needs embeddings.model (the model_id TEI reports at /info) and embeddings.dimension (its vector size); set both',
        );
      }
      const maxBatch = Math.min(options.maxBatch ?? TEI_DEFAULT_MAX_BATCH, TEI_DEFAULT_MAX_BATCH);
      return cached(provided(new TeiEmbedder({ ...options, modelId: options.modelId, dimension: options.dimension, maxBatch }), hooks), config);
    }
    default: {
      const never: never = provider;
      throw new ConfigError(`embeddings.provider: "${String(never)}" is unknown; use local, mistral or tei`);
    }
  }
}

/** Like `createEmbedder`, but asks a TEI server for its model and vector size when the settings leave them out. */
export async function openEmbedder(config: Config, hooks: EmbedderHooks = {}): Promise<Embedder> {
  if (config.settings.embeddings.provider !== 'tei') return createEmbedder(config, hooks);
  return cached(provided(await TeiEmbedder.connect(teiOptions(config)), hooks), config);
}
