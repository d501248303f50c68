/**
 * Text → FTS5, on both sides of the keyword index.
 *
 * The FTS table uses `porter unicode61 remove_diacritics 2` (stores/embedded/schema.ts:
 * FTS_TOKENIZER): unicode61 splits, porter stems each token, on both sides of
 * the index alike. `_` and `-` separate tokens but a case change does not: `vector_store` becomes `vector` `store`
 * while `createVectorStore` stays one token. So that every spelling of an
 * identifier finds every other, the index gets an extra `idents` column (see
 * `identifierIndexText`) and queries are expanded the same way (see
 * `ftsArms`): the parts of a compound identifier, lowercased, and the
 * identifier collapsed to one token (`vectorstore`, `createvectorstore`).
 */

/**
 * A word, possibly glued to others by `_` or `-`. Marks (`\p{M}`) are kept so a
 * decomposed accent does not cut a word in two; everything else (quotes, `*`,
 * `(`, `:`, `^`, NUL, emoji) is dropped, which is what makes the output safe.
 */
const RAW_TOKEN = /[\p{L}\p{M}\p{N}_]+(?:-+[\p{L}\p{M}\p{N}_]+)*/gu;
const SEPARATORS = /[_-]+/;
/** camelCase, PascalCase and acronym boundaries: fooBar, HTTPServer, md5Hash. */
const CASE_BOUNDARY = /(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u;

/** A long pasted query would otherwise make a MATCH with hundreds of OR arms. */
const MAX_TERMS = 64;
/** The whole-query phrase only rewards text in the query's order; past a few words it never matches. */
const MAX_PHRASE_WORDS = 16;
/** Bounds the idents column for chunks that are mostly identifiers (minified code, tables). */
const MAX_INDEX_IDENTS = 4000;

/** The lowercased parts of one raw token: `createVectorStore` → create, vector, store. */
export function identifierParts(token: string): string[] {
  const parts: string[] = [];
  for (const piece of token.split(SEPARATORS)) {
    for (const part of piece.split(CASE_BOUNDARY)) {
      if (part !== '') parts.push(part.toLowerCase());
    }
  }
  return parts;
}

interface Token {
  parts: string[];
  /** More than one part: `vector_store`, `createVectorStore`, `create-vector-store`. */
  compound: boolean;
}

function tokens(text: string): Token[] {
  const out: Token[] = [];
  for (const match of text.matchAll(RAW_TOKEN)) {
    const parts = identifierParts(match[0]);
    if (parts.length > 0) out.push({ parts, compound: parts.length > 1 });
  }
  return out;
}

function quote(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
}

/**
 * What goes into the `idents` column for a chunk: for every compound
 * identifier, its collapsed form and its parts, each once. Plain words are left
 * out: the `content` column already holds them.
 */
export function identifierIndexText(...texts: string[]): string {
  const seen = new Set<string>();
  for (const text of texts) {
    for (const token of tokens(text)) {
      if (!token.compound) continue;
      seen.add(token.parts.join(''));
      for (const part of token.parts) seen.add(part);
      if (seen.size >= MAX_INDEX_IDENTS) return [...seen].join(' ');
    }
  }
  return [...seen].join(' ');
}

/**
 * The OR-able arms of a MATCH expression for arbitrary user text, in order:
 * the whole query as a phrase, then per token its collapsed identifier and its
 * parts as a phrase (`"vector store"` also matches prose and kebab-case), then
 * each part alone. Every arm is a quoted string, so FTS5 operators in the input
 * (`AND`, `NEAR(`, `*`, `^`, `col:`) are plain words or gone. At most
 * MAX_TERMS arms.
 */
export function ftsArms(text: string): string[] {
  const toks = tokens(text);
  const arms = new Set<string>();
  const add = (words: string[]): void => {
    if (arms.size < MAX_TERMS) arms.add(quote(words.join(' ')));
  };
  if (toks.length > 1) add(toks.flatMap((t) => t.parts).slice(0, MAX_PHRASE_WORDS));
  for (const token of toks) {
    if (token.compound) {
      add([token.parts.join('')]);
      add(token.parts);
    }
    for (const part of token.parts) add([part]);
    if (arms.size >= MAX_TERMS) break;
  }
  return [...arms];
}

/** ORs arms into one MATCH expression; null when there is nothing to match. */
export function joinArms(arms: readonly string[]): string | null {
  return arms.length === 0 ? null : arms.join(' OR ');
}

/** ANDs arms into one MATCH expression: the rows holding every one. */
export function allArms(arms: readonly string[]): string {
  return arms.join(' AND ');
}

/** The words of an arm of `ftsArms`, each as a one-word arm: a phrase's words, or the arm itself. */
export function armWords(arm: string): string[] {
  const words = arm.slice(1, -1).replaceAll('""', '"').split(' ');
  return words.length === 1 ? [arm] : words.map(quote);
}

/**
 * A MATCH expression for arbitrary user text, or null when nothing searchable
 * is left: the arms of `ftsArms`, OR-ed, so BM25 ranks chunks that hold more
 * (and rarer) of them first.
 */
export function buildFtsQuery(text: string): string | null {
  return joinArms(ftsArms(text));
}
