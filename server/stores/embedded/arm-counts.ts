/**
 * The capped match counts of keyword arms (stores/embedded/search.ts,
 * keywordMatch) at one vector generation. Lucene and Tantivy read a term's
 * document frequency from their term dictionary; FTS5 can only count a
 * term's matches by walking its doclist, up to the row budget. At 1M chunks
 * those walks took a hybrid search 4.4 ms at the median and 20 ms at p95,
 * on the main thread before the graph search; remembered, a fresh process's
 * 200 bench queries ran at a hybrid p50 of 12.8–14.6 ms instead of
 * 15.0–16.1 (pages warm, three runs each). A word's count is walked once
 * per generation: every write of a chunk writes its vector, which moves the
 * generation and clears what was counted, so a count is never stale.
 */

/** Arms remembered per generation; bounds a client that sends ever new words. */
const MAX_ARMS = 4_096;

export class ArmCounts {
  private generation = -1;
  private readonly counts = new Map<string, number>();

  /** `arm`'s count at `generation`, from `walk` the first time it is asked at that generation. */
  count(generation: number, arm: string, walk: () => number): number {
    if (generation !== this.generation) {
      this.counts.clear();
      this.generation = generation;
    }
    let n = this.counts.get(arm);
    if (n === undefined) {
      n = walk();
      if (this.counts.size >= MAX_ARMS) this.counts.clear();
      this.counts.set(arm, n);
    }
    return n;
  }
}
