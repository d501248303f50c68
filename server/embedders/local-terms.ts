import { createHash } from 'node:crypto';

/**
 * Term vectors learned from the library itself, without weights to download:
 * reflective random indexing (Cohen, Schvaneveldt & Widdows, J. Biomedical
 * Informatics 2010). Each term has a fixed sparse ±1 "index vector" drawn
 * from its hash; a chunk's vector is the tf-idf-weighted sum of its terms'
 * index vectors; a term's learned vector is the tf-idf-weighted sum of the
 * vectors of the chunks it occurs in. Terms that share chunks ("log" and
 * "commits", "throttle" and "429") end up close without an SVD: this is a
 * random projection of the term-chunk-term co-occurrence that LSA factors.
 * docs/retrieval.md records what it bought (and why it is not the default).
 */

export const TERM_DIMENSION = 256;
/** Non-zero entries of each index vector (half +1, half −1). */
const INDEX_NONZERO = 8;
/** A term seen in one chunk only says nothing about its neighbours. */
const MIN_DF = 2;
/** Bounds the model (and its file) on a large library: the most used terms win. */
const MAX_VOCABULARY = 40_000;

/** The learned model: per term, its document frequency and its unit-length vector. */
export interface TermModel {
  /** Chunks the model was learned from; refresh compares against it. */
  readonly documents: number;
  readonly terms: ReadonlyMap<string, number>;
  /** Document frequency per term index. */
  readonly df: Uint32Array;
  /** `terms.size × TERM_DIMENSION`, row per term. */
  readonly vectors: Float32Array;
  /** Content hash: names the model in the embedder id. */
  readonly version: string;
}

function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Slots and signs of a word's index vector: deterministic from the word alone. */
function indexVector(word: string): { slots: Int32Array; signs: Float32Array } {
  const slots = new Int32Array(INDEX_NONZERO);
  const signs = new Float32Array(INDEX_NONZERO);
  for (let k = 0; k < INDEX_NONZERO; k++) {
    const h = fnv1a(word, 0x811c9dc5 + k * 0x9e3779b9);
    slots[k] = h % TERM_DIMENSION;
    signs[k] = k % 2 === 0 ? 1 : -1;
  }
  return { slots, signs };
}

export function modelVersion(terms: readonly string[], df: Uint32Array, vectors: Float32Array, documents: number): string {
  const hash = createHash('sha256');
  hash.update(`${documents}\n${terms.join('\n')}\n`);
  hash.update(new Uint8Array(df.buffer, df.byteOffset, df.byteLength));
  hash.update(new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength));
  return hash.digest('hex').slice(0, 12);
}

/**
 * Learns term vectors from the library's chunks, each given as its tokens
 * (local.ts `tokenize`). Deterministic: the same chunks in the same order
 * give the same model, byte for byte.
 */
export function buildTermModel(tokenized: ReadonlyArray<readonly string[]>): TermModel {
  // Vocabulary by document frequency, ties by the term itself, so the order never depends on a Map's history.
  const dfCount = new Map<string, number>();
  for (const tokens of tokenized) {
    for (const t of new Set(tokens)) dfCount.set(t, (dfCount.get(t) ?? 0) + 1);
  }
  const terms = [...dfCount]
    .filter(([, n]) => n >= MIN_DF)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, MAX_VOCABULARY)
    .map(([t]) => t);
  const index = new Map(terms.map((t, i) => [t, i]));
  const df = Uint32Array.from(terms, (t) => dfCount.get(t)!);
  const V = terms.length;

  const index_ = terms.map(indexVector);
  const vectors = new Float32Array(V * TERM_DIMENSION);
  // Chunks in the given order and terms in first-seen order: float sums in a fixed order, byte-identical run to run.
  const n = tokenized.length;
  const doc = new Float32Array(TERM_DIMENSION);
  for (const tokens of tokenized) {
    const tf = new Map<number, number>();
    for (const t of tokens) {
      const i = index.get(t);
      if (i !== undefined) tf.set(i, (tf.get(i) ?? 0) + 1);
    }
    doc.fill(0);
    const weights: Array<[number, number]> = [];
    for (const [i, c] of tf) {
      const w = (1 + Math.log(c)) * Math.log((n + 1) / (df[i]! + 0.5));
      if (w <= 0) continue;
      weights.push([i, w]);
      const { slots, signs } = index_[i]!;
      for (let k = 0; k < INDEX_NONZERO; k++) doc[slots[k]!]! += signs[k]! * w;
    }
    normalise(doc);
    for (const [i, w] of weights) {
      const row = i * TERM_DIMENSION;
      for (let k = 0; k < TERM_DIMENSION; k++) vectors[row + k]! += w * doc[k]!;
    }
  }
  for (let i = 0; i < V; i++) normalise(vectors.subarray(i * TERM_DIMENSION, (i + 1) * TERM_DIMENSION));
  return { documents: tokenized.length, terms: index, df, vectors, version: modelVersion(terms, df, vectors, tokenized.length) };
}

/** Scales `v` to unit length in place (all zeros stay zeros). */
export function normalise(v: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  if (norm === 0) return v;
  const inv = 1 / Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}

/**
 * A text's learned vector: its terms' vectors weighted by damped frequency
 * times idf, so "git" (on every page) adds little and "reflog" a lot.
 * Unit length, or all zeros when no term is known.
 */
export function embedTerms(model: TermModel, tokens: readonly string[], out: Float32Array): void {
  const tf = new Map<number, number>();
  for (const t of tokens) {
    const i = model.terms.get(t);
    if (i !== undefined) tf.set(i, (tf.get(i) ?? 0) + 1);
  }
  const n = model.documents;
  for (const [i, count] of tf) {
    const idf = Math.log((n + 1) / (model.df[i]! + 0.5));
    if (idf <= 0) continue;
    const w = (1 + Math.log(count)) * idf;
    const row = i * TERM_DIMENSION;
    for (let k = 0; k < TERM_DIMENSION; k++) out[k]! += w * model.vectors[row + k]!;
  }
  normalise(out);
}
