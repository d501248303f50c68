/**
 * The capped match counts of keyword arms (stores/embedded/search.ts,
 * keywordMatch). Lucene and Tantivy read a term's document frequency from
 * their term dictionary; FTS5 can only count a term's matches by walking its
 * doclist, up to a cap. At 1M chunks those walks took a hybrid search 4.4 ms
 * at the median and 20 ms at p95, on the main thread before the graph
 * search; remembered, a fresh process's 200 bench queries ran at a hybrid
 * p50 of 12.8–14.6 ms instead of 15.0–16.1 (pages warm, three runs each).
 *
 * A count only sizes the work a search takes on, so one taken a few writes
 * ago serves: every write of a chunk writes its vector and moves the vector
 * generation by one, and one chunk holds a word once, so a count taken at
 * most RECOUNT_AFTER_WRITES generations ago is off by at most that many rows.
 * A zero is never kept past a write: it would leave unsearched a word that
 * the write just brought.
 */

/** Generations after which every count is walked again. */
const RECOUNT_AFTER_WRITES = 1_000;
/** Arms remembered; bounds a client that sends ever new words. */
const MAX_ARMS = 4_096;

export class ArmCounts {
  private generation = -1;
  /** The generation the oldest remembered count was walked at. */
  private countedAt = -1;
  private readonly counts = new Map<string, number>();

  /** `arm`'s count at `generation`, from `walk` unless one walked within RECOUNT_AFTER_WRITES generations is remembered. */
  count(generation: number, arm: string, walk: () => number): number {
    if (generation !== this.generation) this.moveTo(generation);
    let n = this.counts.get(arm);
    if (n === undefined) {
      n = walk();
      if (this.counts.size >= MAX_ARMS) this.counts.clear();
      if (this.counts.size === 0) this.countedAt = generation;
      this.counts.set(arm, n);
    }
    return n;
  }

  private moveTo(generation: number): void {
    // A generation behind the counts is another store's history (a restored backup): nothing counted holds.
    if (generation < this.generation || generation - this.countedAt > RECOUNT_AFTER_WRITES) this.counts.clear();
    else for (const [arm, n] of this.counts) if (n === 0) this.counts.delete(arm);
    this.generation = generation;
  }
}
