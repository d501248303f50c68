/**
 * What paid tokens cost, in one place: the usage store, the budget and the
 * Prometheus metrics all price tokens through `Pricing.costOf`, so a price
 * changed in settings changes every figure at once.
 *
 * Prices are USD per million tokens. The built-in table is Anthropic's and
 * Mistral's published list prices for the models the SDK knows
 * (platform.claude.com/docs/en/about-claude/pricing, mistral.ai/pricing);
 * `pricing.models` in settings.yaml overrides or extends it per model, because
 * list prices change and negotiated ones differ.
 */

/** One model's price. Embedding models only have `input`. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Prompt-cache hits (Anthropic's `cache_read_input_tokens`). */
  cache_read: number;
  /** Prompt-cache writes (`cache_creation_input_tokens`); the app uses the default 5-minute cache. */
  cache_write: number;
}

/** As written in settings: cache prices may be left out. */
export interface ModelPriceSetting {
  input: number;
  output?: number;
  cache_read?: number;
  cache_write?: number;
}

/** Token counts of one call, in the shape Claude's `usage` has; embeddings fill `input_tokens` only. */
export interface TokenUsage {
  input_tokens: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

export interface PricingSettings {
  models?: Record<string, ModelPriceSetting>;
  /** Used for a model that is in neither table; see DEFAULT_FALLBACK_PRICE. */
  fallback?: ModelPriceSetting;
}

/** Anthropic's cache multipliers (5-minute write 1.25x, hit 0.1x), used when a setting names only input and output. */
const CACHE_WRITE_FACTOR = 1.25;
const CACHE_READ_FACTOR = 0.1;

export function completePrice(p: ModelPriceSetting): ModelPrice {
  return {
    input: p.input,
    output: p.output ?? 0,
    cache_read: p.cache_read ?? p.input * CACHE_READ_FACTOR,
    cache_write: p.cache_write ?? p.input * CACHE_WRITE_FACTOR,
  };
}

const claude = (input: number, output: number, cacheWrite: number, cacheRead: number): ModelPrice => ({
  input,
  output,
  cache_write: cacheWrite,
  cache_read: cacheRead,
});
const embedding = (input: number): ModelPrice => ({ input, output: 0, cache_read: 0, cache_write: 0 });

/**
 * List prices per million tokens. Claude ids are those of @anthropic-ai/sdk's
 * `Model` type; dated ids (…-20251001) and unlisted suffixes fall back to the
 * longest listed prefix. Haiku 5.5 costs more for prompts over 100k tokens; the
 * RAG prompts here stay far below, so only the lower band is listed. Where
 * sources disagree (Sonnet 5.5 cache hits: $0.20 on the model page, $0.10
 * reported after a later cut) the higher price is kept: over-counting only
 * makes the budget stop early.
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'mistral-embed': embedding(0.1),
  'codestral-embed': embedding(0.15),
  'claude-fable-5-1': claude(10, 50, 12.5, 0.25),
  'claude-mythos-5-1': claude(10, 50, 12.5, 0.25),
  'claude-fable-5': claude(10, 50, 12.5, 1),
  'claude-mythos-5': claude(10, 50, 12.5, 1),
  'claude-opus-5-5': claude(4, 20, 5, 0.2),
  'claude-opus-5': claude(5, 25, 6.25, 0.5),
  'claude-opus-4-8': claude(5, 25, 6.25, 0.5),
  'claude-opus-4-7': claude(5, 25, 6.25, 0.5),
  'claude-opus-4-6': claude(5, 25, 6.25, 0.5),
  'claude-opus-4-5': claude(5, 25, 6.25, 0.5),
  'claude-opus-4-1': claude(15, 75, 18.75, 1.5),
  'claude-sonnet-5-5': claude(2, 10, 2.5, 0.2),
  'claude-sonnet-5': claude(2, 10, 2.5, 0.2),
  'claude-sonnet-4-6': claude(3, 15, 3.75, 0.3),
  'claude-sonnet-4-5': claude(3, 15, 3.75, 0.3),
  'claude-haiku-5-5': claude(0.1, 0.5, 0.125, 0.01),
  'claude-haiku-4-5': claude(1, 5, 1.25, 0.1),
};

/**
 * An unknown model (a new release, a gateway alias) is priced like the most
 * expensive tier: a budget that over-counts stops early, one that counts zero
 * never stops. A warning names the model so the operator can add its price.
 */
export const DEFAULT_FALLBACK_PRICE: ModelPrice = claude(10, 50, 12.5, 1);

export interface PriceLookup {
  price: ModelPrice;
  /** The table entry used, or null when the fallback priced it. */
  matched: string | null;
}

export class Pricing {
  readonly models: Readonly<Record<string, ModelPrice>>;
  readonly fallback: ModelPrice;

  constructor(settings: PricingSettings = {}) {
    const fromSettings = Object.fromEntries(Object.entries(settings.models ?? {}).map(([id, p]) => [id, completePrice(p)]));
    this.models = { ...DEFAULT_PRICES, ...fromSettings };
    this.fallback = settings.fallback ? completePrice(settings.fallback) : DEFAULT_FALLBACK_PRICE;
  }

  /** Exact id first, then the longest listed id the model extends (`claude-sonnet-5-5-20261001` → `claude-sonnet-5-5`). */
  lookup(model: string): PriceLookup {
    const exact = this.models[model];
    if (exact) return { price: exact, matched: model };
    let best: string | null = null;
    for (const id of Object.keys(this.models)) {
      if (model.startsWith(`${id}-`) || model.startsWith(`${id}@`) || model.startsWith(`${id}[`)) {
        if (best === null || id.length > best.length) best = id;
      }
    }
    const found = best === null ? undefined : this.models[best];
    return found ? { price: found, matched: best } : { price: this.fallback, matched: null };
  }

  /** USD for one call's tokens. */
  costOf(model: string, usage: TokenUsage): number {
    const p = this.lookup(model).price;
    return (
      (usage.input_tokens * p.input +
        (usage.output_tokens ?? 0) * p.output +
        (usage.cache_read_input_tokens ?? 0) * p.cache_read +
        (usage.cache_creation_input_tokens ?? 0) * p.cache_write) /
      1_000_000
    );
  }
}

const DEFAULT_PRICING = new Pricing();

/**
 * USD for one call's tokens. Without `pricing`, the built-in list prices; pass
 * `new Pricing(config.settings.pricing)` to honour settings.yaml.
 */
export function costOf(model: string, usage: TokenUsage, pricing: Pricing = DEFAULT_PRICING): number {
  return pricing.costOf(model, usage);
}
