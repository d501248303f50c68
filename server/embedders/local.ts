import { LOCAL_EMBEDDER_FAMILY, type Embedder } from './embedder.js';

export const LOCAL_DIMENSION = 1024;

/** Feature weights: whole words carry most meaning; trigrams rescue typos and inflections. */
const WORD_WEIGHT = 1.0;
const BIGRAM_WEIGHT = 0.6;
const TRIGRAM_WEIGHT = 0.25;

const WORD_PATTERN = /[\p{L}\p{N}]+/gu;

/** FNV-1a: fast, well-spread 32-bit hash; features only need to land consistently. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

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
const CASE_CHANGE = /[a-z0-9][A-Z]|[A-Z][A-Z][a-z]/;

export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(WORD_PATTERN)) {
    const word = match[0];
    for (const part of identifierParts(word)) out.push(part.toLowerCase());
    out.push(word.toLowerCase());
  }
  return out;
}

/** Keys stay 30-bit so V8 keeps them as small integers: far less garbage per chunk. */
const KEY_MASK = 0x3fffffff;
const HASH_CHAR = 0x23; // '#': marks word boundaries for trigrams

/** Murmur3's finaliser: mixes two word hashes into a well-spread bigram hash. */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function trigramHash(a: number, b: number, c: number): number {
  let h = Math.imul(0x811c9dc5 ^ 0x74, 0x01000193);
  h = Math.imul(h ^ a, 0x01000193);
  h = Math.imul(h ^ b, 0x01000193);
  return Math.imul(h ^ c, 0x01000193) >>> 0;
}

function bump(counts: Map<number, number>, hash: number): void {
  const key = hash & KEY_MASK;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/**
 * Deterministic, weight-free embedder: signed feature hashing of word unigrams,
 * bigrams and character trigrams, with damped counts (1 + ln tf), L2-normalised.
 * It is lexical, not semantic, but needs no model download, so a fresh machine
 * works offline. Signed hashing keeps collisions from biasing the dot product.
 */
export class LocalEmbedder implements Embedder {
  readonly id = `${LOCAL_EMBEDDER_FAMILY}v1:${LOCAL_DIMENSION}`;
  readonly dimension = LOCAL_DIMENSION;
  readonly maxBatch = 1024;

  async embed(texts: string[], _kind?: 'document' | 'query'): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const words = new Map<number, number>();
    const bigrams = new Map<number, number>();
    const trigrams = new Map<number, number>();
    const tokens = tokenize(text);
    let previous = -1;
    for (const w of tokens) {
      const hw = fnv1a(w);
      bump(words, hw);
      if (previous >= 0) bump(bigrams, mix(previous, hw));
      previous = hw;
      if (w.length > 3) {
        let a = HASH_CHAR;
        let b = w.charCodeAt(0);
        for (let j = 1; j <= w.length; j++) {
          const c = j < w.length ? w.charCodeAt(j) : HASH_CHAR;
          bump(trigrams, trigramHash(a, b, c));
          a = b;
          b = c;
        }
      }
    }
    const vector = new Float32Array(LOCAL_DIMENSION);
    const spread = (counts: Map<number, number>, weight: number, salt: number) => {
      for (const [key, count] of counts) {
        const h = (key ^ salt) >>> 0;
        const sign = h & 0x20000000 ? -1 : 1;
        // Damping stops one repeated word from dominating a long chunk.
        vector[h % LOCAL_DIMENSION]! += sign * weight * (1 + Math.log(count));
      }
    };
    spread(words, WORD_WEIGHT, 0);
    spread(bigrams, BIGRAM_WEIGHT, 0x15a4e35);
    spread(trigrams, TRIGRAM_WEIGHT, 0x2c1b3c6d);
    let norm = 0;
    for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < vector.length; i++) vector[i]! *= inv;
    }
    return vector;
  }
}
