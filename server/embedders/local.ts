import type { Embedder } from './embedder.js';

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
  const parts = word
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(' ');
  return parts.length > 1 ? parts : [];
}

export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(WORD_PATTERN)) {
    const word = match[0];
    for (const part of identifierParts(word)) out.push(part.toLowerCase());
    out.push(word.toLowerCase());
  }
  return out;
}

/**
 * Deterministic, weight-free embedder: signed feature hashing of word unigrams,
 * bigrams and character trigrams, with damped counts (1 + ln tf), L2-normalised.
 * It is lexical, not semantic, but needs no model download, so a fresh machine
 * works offline. Signed hashing keeps collisions from biasing the dot product.
 */
export class LocalEmbedder implements Embedder {
  readonly id = `local-hash-v1:${LOCAL_DIMENSION}`;
  readonly dimension = LOCAL_DIMENSION;
  readonly maxBatch = 1024;

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const counts = new Map<string, number>();
    const add = (feature: string) => counts.set(feature, (counts.get(feature) ?? 0) + 1);
    const words = tokenize(text);
    for (let i = 0; i < words.length; i++) {
      const w = words[i] ?? '';
      add('w' + w);
      const next = words[i + 1];
      if (next !== undefined) add('b' + w + ' ' + next);
      if (w.length > 3) {
        const padded = `#${w}#`;
        for (let j = 0; j + 3 <= padded.length; j++) add('t' + padded.slice(j, j + 3));
      }
    }
    const vector = new Float32Array(LOCAL_DIMENSION);
    for (const [feature, count] of counts) {
      const h = fnv1a(feature);
      const sign = h & 0x80000000 ? -1 : 1;
      const kind = feature.charCodeAt(0);
      const weight = kind === 119 /* w */ ? WORD_WEIGHT : kind === 98 /* b */ ? BIGRAM_WEIGHT : TRIGRAM_WEIGHT;
      // Damping stops one repeated word from dominating a long chunk.
      vector[h % LOCAL_DIMENSION]! += sign * weight * (1 + Math.log(count));
    }
    let norm = 0;
    for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < vector.length; i++) vector[i]! *= inv;
    }
    return vector;
  }
}
