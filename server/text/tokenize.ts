const WORD_PATTERN = /[\p{L}\p{N}]+/gu;
const CASE_CHANGE = /[a-z0-9][A-Z]|[A-Z][A-Z][a-z]/;

/** Splits `createVectorStore` / `HTTPServer2` into their parts; the whole word is kept too. */
function identifierParts(word: string): string[] {
  // Most words are plain lowercase: skip the regex work for them.
  if (!CASE_CHANGE.test(word)) return [];
  const parts = word
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(' ');
  return parts.length > 1 ? parts : [];
}

/**
 * Lowercased words (letters and digits, any script), each camelCase or
 * PascalCase identifier followed by its parts: the one word splitter of the
 * local embedder, re-ranking, confidence and extractive answers, so a term
 * that matches in one matches in all.
 */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(WORD_PATTERN)) {
    const word = match[0];
    for (const part of identifierParts(word)) out.push(part.toLowerCase());
    out.push(word.toLowerCase());
  }
  return out;
}
