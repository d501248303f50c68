/**
 * What the embedded store learnt about a search filter at one vector
 * generation: its rows, counted as far as a search needed to know them (few
 * enough to scan exactly?), and the share of graph candidates that passed it. A filtered dense search used
 * to count the filter's rows (capped) and ask the graph for an unfiltered
 * pool before it knew the share: at 30k clustered vectors with a 15 % filter
 * those two steps were a third of the search's CPU, and the same filter is
 * usually asked again (the panel's taxonomy or type filter).
 *
 * Only speed depends on this: results are exact whatever it says (the store
 * checks every candidate against the filter in SQL and falls back to an
 * exact scan). It is keyed by the vector generation, so a write makes the
 * count be taken again; a change of taxonomy alone (which writes no vector)
 * can leave a count stale until the next write, which at worst costs one
 * more over-fetch round or an exact scan.
 */
export interface FilterStats {
  /** The share of graph candidates that passed (search.ts, nextShare), or null before any graph search with it. */
  share: number | null;
  /** The filter's rows counted up to `cap` plus one (search.ts, filterRowsAtMost), or null until a search needs them at this generation. */
  rowsUpTo: { cap: number; rows: number } | null;
}

/** Filters remembered; a store sees a handful in practice, this only bounds a client that varies them on purpose. */
const MAX_FILTERS = 256;

export class FilterStatsCache {
  private generation = -1;
  private readonly byFilter = new Map<string, FilterStats>();

  /** The remembered share of graph candidates that passed `key`, if a search has seen one (a guess at any generation). */
  share(key: string): number | null {
    return this.byFilter.get(key)?.share ?? null;
  }

  /** The stats of `key` at `generation`: its counted rows are forgotten when the generation moves, its share is kept. */
  get(key: string, generation: number): FilterStats {
    if (generation !== this.generation) {
      // A write may have changed any filter's rows; the shares stay as first guesses.
      for (const stats of this.byFilter.values()) stats.rowsUpTo = null;
      this.generation = generation;
    }
    let stats = this.byFilter.get(key);
    if (stats === undefined) {
      if (this.byFilter.size >= MAX_FILTERS) this.byFilter.clear();
      stats = { share: null, rowsUpTo: null };
      this.byFilter.set(key, stats);
    }
    return stats;
  }
}
