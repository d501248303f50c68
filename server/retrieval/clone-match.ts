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
const SHINGLE_TOKENS = 4;
/**
 * What a full copy adds to the composite re-rank score (rerank.ts, where the
 * fused score's best is 1 and the exact-phrase bonus 0.5): enough to lift a
 * copy above chunks that only share its vocabulary, not enough to lift a
 * chunk with a few shared grams over a much better keyword and vector match.
 * Measured with 3-token shingles: 0.2 / 0.5 / 1 give 0.979 / 0.987 / 0.989
 * (MRR@10, Find Similar).
 */
export const CLONE_WEIGHT = 0.5;
/** The id of every name one side only uses: a renamed local, read the same on both sides. */
const PLACEHOLDER = 0;

function tokens(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

/**
 * The k-grams of `words` over ids (a shared word's id, else the
 * placeholder), each read as a number in base `ids.size + 1`: cheaper than a
 * string per position, and exact while base^k stays a safe integer (under
 * ~9,700 shared words for k = 4); past that the ids are joined as text. A
 * gram of placeholders only says "names in a row", no evidence of a copy,
 * and is left out.
 */
function shingles(words: readonly string[], ids: ReadonlyMap<string, number>): Set<number | string> {
  const base = ids.size + 1;
  const exact = base ** SHINGLE_TOKENS <= Number.MAX_SAFE_INTEGER;
  const seq = words.map((w) => ids.get(w) ?? PLACEHOLDER);
  const out = new Set<number | string>();
  for (let i = 0; i + SHINGLE_TOKENS <= seq.length; i++) {
    const gram = seq.slice(i, i + SHINGLE_TOKENS);
    if (gram.every((id) => id === PLACEHOLDER)) continue;
    out.add(exact ? gram.reduce((key, id) => key * base + id, 0) : gram.join(','));
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
    const ids = new Map<string, number>();
    for (const w of theirs) if (this.vocabulary.has(w) && !ids.has(w)) ids.set(w, ids.size + 1);
    const mine = shingles(this.words, ids);
    if (mine.size === 0) return 0;
    const found = shingles(theirs, ids);
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
