import { z } from 'zod';
import { DEFAULT_MAX_FILE_BYTES, MAX_QUERY_CHARS } from '../../shared/limits.js';

const positiveInt = z.coerce.number().int().positive();
/** Empty strings come from `${VAR:-}` with VAR unset; they mean "not set". */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const PROFILES = ['high_accuracy', 'balanced', 'fast_query'] as const;

/** USD per million tokens; cache prices default to Anthropic's multipliers of `input` (server/usage/pricing.ts). */
const usdPerMillion = z.coerce.number().min(0);
const modelPrice = z
  .object({ input: usdPerMillion, output: usdPerMillion.optional(), cache_read: usdPerMillion.optional(), cache_write: usdPerMillion.optional() })
  .strict();

export const SettingsSchema = z
  .object({
    library: z
      .object({
        path: z.string().min(1),
        index_file: z.string().default('_index.yaml'),
        uploads_dir: z
          .string()
          .regex(/^[A-Za-z0-9._-]+$/, 'must be a single folder name')
          .default('contributed'),
        ignore_file: z.string().default('.libraryignore'),
        max_file_bytes: positiveInt.default(DEFAULT_MAX_FILE_BYTES),
      })
      .strict(),
    sessions: z
      .object({ path: z.string().min(1).default('./sessions'), auto_save: z.boolean().default(true) })
      .strict()
      .default({}),
    sdk: z
      .object({
        model: z.string().min(1).default('claude-sonnet-5-5'),
        max_turns: positiveInt.default(6),
        max_tokens: positiveInt.default(2048),
        timeout_ms: positiveInt.default(60000),
        auth_token_env_var: z.string().default('ANTHROPIC_AUTH_TOKEN'),
      })
      .strict()
      .default({}),
    vector: z
      .object({
        store: optionalString.pipe(z.enum(['embedded', 'qdrant']).optional()),
        url: optionalString,
        port: positiveInt.max(65535).default(6333),
        api_key: optionalString,
        collection_name: z.string().min(1).default('knowledge_library'),
        profile: z.enum(PROFILES).default('balanced'),
        prefer_grpc: z.boolean().default(false),
        /** Qdrant requests in flight at once, per process (MAX_CONCURRENT_QDRANT); the embedded store is synchronous and ignores it. */
        max_concurrent: positiveInt.default(20),
      })
      .strict()
      .default({}),
    embeddings: z
      .object({
        provider: z.enum(['local', 'mistral', 'tei']).default('local'),
        model: z.string().min(1).default('local-hash-v1'),
        batch_size: positiveInt.max(128, 'must be at most 128 (provider limit)').default(64),
        api_key: optionalString,
        api_key_env_var: optionalString,
        /** Vector size: codestral-embed's output_dimension, or a TEI model's size to skip discovery. */
        dimension: positiveInt.optional(),
        timeout_ms: positiveInt.default(30000),
        max_concurrent: positiveInt.default(4),
        server_url: optionalString,
        tei_url: optionalString,
      })
      .strict()
      .default({}),
    chunking: z
      .object({
        min_tokens: positiveInt.default(128),
        max_tokens: positiveInt.default(512),
        overlap_tokens: z.coerce.number().int().min(0).default(64),
        strategy: z.enum(['semantic']).default('semantic'),
      })
      .strict()
      .default({})
      .refine((c) => c.min_tokens <= c.max_tokens, {
        message: 'min_tokens must not exceed max_tokens',
        path: ['min_tokens'],
      })
      .refine((c) => c.overlap_tokens < c.max_tokens, {
        message: 'overlap_tokens must be smaller than max_tokens',
        path: ['overlap_tokens'],
      }),
    api: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.coerce.number().int().min(0).max(65535).default(8000),
        cors_origins: z.array(z.string()).default([]),
        debug: z.boolean().default(false),
        max_body_bytes: positiveInt.default(12 * 1024 * 1024),
      })
      .strict()
      .default({}),
    data: z.object({ dir: z.string().min(1).default('./data') }).strict().default({}),
    taxonomy: z
      .object({ min_confidence: z.coerce.number().min(0).max(1).default(0.2) })
      .strict()
      .default({}),
    /** Prices of paid tokens; entries override the built-in list prices per model (server/usage/pricing.ts). */
    pricing: z
      .object({ models: z.record(z.string().min(1), modelPrice).default({}), fallback: modelPrice.optional() })
      .strict()
      .default({}),
    /** Monthly spend on Mistral and Claude (UTC months); 0 means unlimited. */
    budget: z
      .object({
        monthly_usd: z.coerce.number().min(0).default(0),
        warn_percent: z.coerce.number().min(1).max(100).default(80),
      })
      .strict()
      .default({}),
    /** `npm run backup`: where archives go (relative to the start directory) and how many days they are kept (0: forever). */
    backup: z
      .object({ dir: z.string().min(1).default('./backups'), keep_days: z.coerce.number().int().min(0).default(7) })
      .strict()
      .default({}),
    /** Circuit breakers around Mistral, TEI, Qdrant and Claude, and how /health probes them. */
    reliability: z
      .object({
        failure_threshold: positiveInt.default(5),
        cooldown_ms: positiveInt.default(30_000),
        health_cache_ms: z.coerce.number().int().min(0).default(5_000),
        health_timeout_ms: positiveInt.default(2_000),
      })
      .strict()
      .default({}),
    /** Per-developer budgets (token buckets, full minute as burst); 0 turns one off. */
    limits: z
      .object({
        requests_per_minute: z.coerce.number().int().min(0).default(600),
        asks_per_minute: z.coerce.number().int().min(0).default(60),
        index_per_minute: z.coerce.number().int().min(0).default(120),
        // The shared request schemas cap queries at 4000; this may only tighten it.
        max_query_chars: positiveInt.max(MAX_QUERY_CHARS, `must be at most ${MAX_QUERY_CHARS} (the API schema caps queries there)`).default(MAX_QUERY_CHARS),
      })
      .strict()
      .default({}),
    /** Structured JSON logs (pino); LOG_LEVEL overrides `level`. */
    logging: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({}),
  })
  .strict();

export type Settings = z.infer<typeof SettingsSchema>;
