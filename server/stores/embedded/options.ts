/**
 * Most rows BM25 is computed for per keyword search. FTS5 scores and sorts
 * every row a MATCH returns (~1.5–4 µs each here), so one query word found in
 * most chunks ("the", "function") costs 150 ms+ at 100k chunks. Arms are kept
 * rarest first while their matches fit this budget; the dropped ones are the
 * commonest words, whose IDF makes them nearly worthless to BM25 anyway.
 */
export const DEFAULT_KEYWORD_ROW_BUDGET = 5_000;

/** Below this many vectors an exact scan is as fast as the graph and needs no index. */
export const DEFAULT_EXACT_BELOW = 2_000;
/** A filter matching at most this many chunks is scored exactly: cheaper than over-fetching from the graph. */
export const DEFAULT_EXACT_FILTER_ROWS = 2_000;

/**
 * From this many vectors in the graph, BM25 rankings run on a second,
 * read-only connection on a worker thread while the graph search runs on the
 * main one (storage/sqlite-reader.ts). Below it a keyword ranking takes about
 * a millisecond, too little to win back a message to another thread.
 */
export const DEFAULT_PARALLEL_KEYWORD_FROM = 10_000;

export interface EmbeddedStoreOptions {
  /** Most FTS rows BM25 ranks per keyword search (see DEFAULT_KEYWORD_ROW_BUDGET). */
  keywordRowBudget?: number;
  /** Dense search scans exactly below this many vectors (DEFAULT_EXACT_BELOW). */
  exactBelow?: number;
  /** A filter matching at most this many chunks is scored exactly (DEFAULT_EXACT_FILTER_ROWS). */
  exactFilterRows?: number;
  /** BM25 rankings run beside the graph search from this many vectors (DEFAULT_PARALLEL_KEYWORD_FROM). */
  parallelKeywordFrom?: number;
  /** false: never open the dense index, always scan exactly (a reference for tests and the bench). */
  denseIndex?: boolean;
}
