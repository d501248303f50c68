/**
 * The chunking settings (min/max/overlap_tokens) are counted with this estimate,
 * not with a real tokenizer: embedding providers use different tokenizers, and
 * ~4 characters per token is the usual average for English prose and code
 * under BPE tokenizers. It is cheap, deterministic and provider-independent;
 * dense text (CJK, minified code) runs over it, so limits keep some headroom.
 */
export const CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** The longest text, in characters, whose estimate stays within `tokens`. */
export function charsForTokens(tokens: number): number {
  return Math.max(0, Math.floor(tokens)) * CHARS_PER_TOKEN;
}
