/**
 * Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009).
 *
 * Every ranked list adds `1 / (k + rank)` to each item it holds, rank counted
 * from 1. Only ranks matter, so BM25 scores and cosine similarities, which live
 * on unrelated scales, fuse without calibration.
 *
 * `k` = 60 is the value from the paper and what Elasticsearch, OpenSearch and
 * Qdrant (`{rrf:{k:60}}`) use: it flattens the head of each list, so an item
 * that both lists rank fairly high beats one that a single list ranks first.
 * A smaller k trusts each list's top hits more.
 */
export const RRF_K = 60;

export function reciprocalRankFusion(
  lists: ReadonlyArray<ReadonlyArray<{ readonly id: string }>>,
  k: number = RRF_K,
): Map<string, number> {
  if (!Number.isFinite(k) || k < 0) {
    throw new RangeError(`reciprocalRankFusion: k must be a finite number ≥ 0, got ${k}; use the default (${RRF_K})`);
  }
  const fused = new Map<string, number>();
  for (const list of lists) {
    // An id repeated inside one list counts once, at its best rank: a list that
    // returns duplicates must not vote twice.
    const seen = new Set<string>();
    let rank = 0;
    for (const item of list) {
      rank += 1;
      if (seen.has(item.id)) continue;
      seen.add(item.id);
      fused.set(item.id, (fused.get(item.id) ?? 0) + 1 / (k + rank));
    }
  }
  return fused;
}
