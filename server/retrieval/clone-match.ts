import type { Ranked } from './rerank.js';

/**
 * Find Similar's near-copy signal: how much of a selection reappears, in
 * order, in a chunk. It is the share of the selection's token k-grams
 * (shingles) that the chunk also has, the measure token-based clone
 * detectors build on (Roy, Cordy & Koschke, "Comparison and Evaluation of
 * Code Clone Detection Techniques and Tools", Sci. Comput. Program. 2009). A
 * near-copy keeps long runs of the selection's tokens in the same order; a
 * chunk that merely uses the same names (a table of constants, an import
 * block, a sibling function) does not, and BM25 and a lexical embedder, both
 * bags of words, cannot tell the two apart (docs/retrieval.md).
 *
 * A copy with renamed locals (a "type-2 clone") still matches: a name that
 * only one side uses is read as a placeholder on both sides before the
 * k-grams are taken, so `self.emit(constants.EVENT_TEST_END, test)` and
 * `v3.emit(constants.EVENT_TEST_END, v5)` share their grams. Tokens are
 * letter/digit runs, so this holds for any programming language.
 */
const TOKEN = /[\p{L}\p{N}_$]+/gu;
/** Measured with `npm run eval`: 3, 4 and 5 score within 0.002 of each other; 2 loses 0.012. */
export const SHINGLE_TOKENS = 4;
/**
 * What a full copy adds to the composite re-rank score (rerank.ts, where the
 * fused score's best is 1 and the exact-phrase bonus 0.5): enough to lift a
 * copy above chunks that only share its vocabulary, not enough to lift a
 * chunk with a few shared grams over a much better keyword and vector match.
 * Measured: 0.2 / 0.5 / 1 give 0.979 / 0.987 / 0.989 (MRR@10, Find Similar).
 */
export const CLONE_WEIGHT = 0.5;
const PLACEHOLDER = '\u0000';

function tokens(text: string): string[] {
  return [...text.toLowerCase().matchAll(TOKEN)].map((m) => m[0]);
}

function shingles(words: readonly string[], shared: ReadonlySet<string>): Set<string> {
  const normalised = words.map((w) => (shared.has(w) ? w : PLACEHOLDER));
  const out = new Set<string>();
  for (let i = 0; i + SHINGLE_TOKENS <= normalised.length; i++) {
    const gram = normalised.slice(i, i + SHINGLE_TOKENS);
    // A gram of placeholders only says "names in a row": no evidence of a copy.
    if (gram.some((w) => w !== PLACEHOLDER)) out.add(gram.join(' '));
  }
  return out;
}

/** A selection's tokens, read once and compared with many chunks. */
export class CloneMatcher {
  private readonly words: string[];
  private readonly vocabulary: Set<string>;

  constructor(selection: string) {
    this.words = tokens(selection);
    this.vocabulary = new Set(this.words);
  }

  /** The share (0..1) of the selection's k-grams that also occur in `chunk`; 0 for a selection shorter than k tokens. */
  containment(chunk: string): number {
    const theirs = tokens(chunk);
    const theirVocabulary = new Set(theirs);
    const shared = new Set([...this.vocabulary].filter((w) => theirVocabulary.has(w)));
    const mine = shingles(this.words, shared);
    if (mine.size === 0) return 0;
    const found = shingles(theirs, shared);
    let hits = 0;
    for (const gram of mine) if (found.has(gram)) hits += 1;
    return hits / mine.size;
  }
}

/** Re-ranked results with the clone signal added: CLONE_WEIGHT × containment of the selection in each chunk. */
export function rerankByCloneMatch(selection: string, ranked: readonly Ranked[]): Ranked[] {
  const matcher = new CloneMatcher(selection);
  return ranked
    .map((r) => ({ point: r.point, score: r.score + CLONE_WEIGHT * matcher.containment(r.point.payload.content) }))
    .sort((a, b) => b.score - a.score);
}
