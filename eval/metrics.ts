/** Rank-based scores of one mode over a query set; a rank is 1-based, null when not in the top 10. */
export interface Scores {
  queries: number;
  mrr10: number;
  r1: number;
  r5: number;
}

export function score(ranks: ReadonlyArray<number | null>): Scores {
  const n = ranks.length;
  let mrr = 0;
  let r1 = 0;
  let r5 = 0;
  for (const r of ranks) {
    if (r === null || r > 10) continue;
    mrr += 1 / r;
    if (r === 1) r1 += 1;
    if (r <= 5) r5 += 1;
  }
  return n === 0 ? { queries: 0, mrr10: 0, r1: 0, r5: 0 } : { queries: n, mrr10: mrr / n, r1: r1 / n, r5: r5 / n };
}

/** The 1-based rank of the first hit in a result list, or null. */
export function firstHit<T>(results: readonly T[], isHit: (r: T) => boolean): number | null {
  const i = results.findIndex(isHit);
  return i < 0 ? null : i + 1;
}

/** A line range, 1-based and inclusive. */
export interface LineRange {
  start: number;
  end: number;
}

export function overlapLines(a: LineRange, b: LineRange): number {
  return Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start) + 1);
}

/**
 * measuring.md: "any overlap" favours big chunks, so code also counts a tight
 * hit: the overlap covers ≥ 30 % of the larger of the chunk and the function.
 */
export const TIGHT_SHARE = 0.3;

export function isTight(chunk: LineRange, target: LineRange): boolean {
  const larger = Math.max(chunk.end - chunk.start + 1, target.end - target.start + 1);
  return overlapLines(chunk, target) >= TIGHT_SHARE * larger;
}
