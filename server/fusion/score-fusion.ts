import type { FusionWeights } from '../stores/vector-store.js';

/** One side's hit: an id and that side's own score (cosine or BM25, higher is better). */
export interface SideHit<Id> {
  id: Id;
  score: number;
}

/**
 * BM25 has a theoretical minimum, 0 (no query term), so keyword scores are
 * normalised from it (Bruch et al.'s "theoretical min-max"): a keyword hit
 * never counts as a miss just for being last in its list. Cosine has no useful
 * floor (a lexical embedder's top cosines sit close together), so dense scores
 * are min-max normalised over the list.
 */
const BM25_FLOOR = 0;

/**
 * Normalised score fusion, the convex combination of Bruch, Gai & Ingber, "An
 * Analysis of Fusion Functions for Hybrid Retrieval" (ACM TOIS 2023): each
 * side's scores are min-max normalised (see BM25_FLOOR), then
 *
 *   fused = (w_dense · dense + w_keyword · keyword) / (w_dense + w_keyword)
 *
 * where a point one side did not return counts 0 on that side. Unlike
 * reciprocal rank fusion it keeps how far apart a side's hits are: BM25's
 * clear winner stays ahead of a chunk the other side merely ranked higher,
 * which RRF's 1/(60 + rank) flattens away. Measured with `npm run eval`
 * (docs/retrieval.md), it is what lets hybrid beat both of its sides.
 * Result in [0, 1]; 1 = each weighted side's best.
 */
export function fuseScores<Id>(dense: ReadonlyArray<SideHit<Id>>, keyword: ReadonlyArray<SideHit<Id>>, weights: FusionWeights): Map<Id, number> {
  const total = weights.dense + weights.keyword;
  if (!(weights.dense >= 0 && weights.keyword >= 0 && total > 0 && Number.isFinite(total))) {
    throw new RangeError(`fuseScores: weights must be finite, ≥ 0 and not both 0, got dense ${weights.dense}, keyword ${weights.keyword}`);
  }
  const fused = new Map<Id, number>();
  const add = (side: ReadonlyArray<SideHit<Id>>, weight: number, floor: number | null): void => {
    if (side.length === 0 || weight === 0) return;
    let min = Infinity;
    let max = -Infinity;
    for (const h of side) {
      min = Math.min(min, h.score);
      max = Math.max(max, h.score);
    }
    if (floor !== null) min = Math.min(min, floor);
    const seen = new Set<Id>();
    for (const h of side) {
      // A side that returns an id twice votes once, with its first score.
      if (seen.has(h.id)) continue;
      seen.add(h.id);
      const normalised = max > min ? (h.score - min) / (max - min) : 1;
      fused.set(h.id, (fused.get(h.id) ?? 0) + (weight / total) * normalised);
    }
  };
  for (const id of [...dense, ...keyword].map((h) => h.id)) fused.set(id, fused.get(id) ?? 0);
  add(dense, weights.dense, null);
  add(keyword, weights.keyword, BM25_FLOOR);
  return fused;
}

export const EQUAL_WEIGHTS: FusionWeights = { dense: 1, keyword: 1 };

/** Each side of a hybrid search fetches this many, so fusion has overlap to work with. */
export function hybridSideLimit(limit: number): number {
  return Math.max(limit * 3, 50);
}
