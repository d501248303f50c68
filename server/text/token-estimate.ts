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

/** Cuts text to the estimated token budget without splitting a surrogate pair. */
export function truncateToTokens(text: string, maxTokens: number): string {
  if (estimateTokens(text) <= maxTokens) return text;
  let end = charsForTokens(maxTokens);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end);
}
