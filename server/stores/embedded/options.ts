/**
 * Most rows a keyword search walks and ranks. FTS5 scores and sorts every row
 * a MATCH returns (~1.5–4 µs each here), so one query word found in most
 * chunks ("the", "function") costs 150 ms+ at 100k chunks. Arms are kept
 * cheapest first while they fit this budget (search.ts, keywordMatch); the
 * dropped ones are the commonest words, whose IDF makes them nearly worthless
 * to BM25 anyway.
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

/**
 * What one graph candidate costs, in rows of an exact filtered scan: a filter
 * whose rows (estimated by the share of candidates that passed it) number at
 * most this many times the candidates the graph would need is scanned
 * exactly. At 100k clustered 1024-dim chunks a graph search for 1,667
 * candidates took 15 ms and checking them against a filter 2.6 (~10 µs each);
 * an exact scan took 5.4 µs a row for a folder filter and 11 for taxonomy +
 * type. A 5 % folder filter (5,000 rows) is scanned in 27 ms where the graph,
 * asked for ~5,000 candidates over several rounds, took 80.
 */
export const DEFAULT_GRAPH_CANDIDATE_COST = 1.5;

export interface EmbeddedStoreOptions {
  /** Most FTS rows BM25 ranks per keyword search (see DEFAULT_KEYWORD_ROW_BUDGET). */
  keywordRowBudget?: number;
  /** Dense search scans exactly below this many vectors (DEFAULT_EXACT_BELOW). */
  exactBelow?: number;
  /** A filter matching at most this many chunks is scored exactly (DEFAULT_EXACT_FILTER_ROWS). */
  exactFilterRows?: number;
  /** A graph candidate's cost in exact-scan rows (DEFAULT_GRAPH_CANDIDATE_COST); 0 never prefers the scan by this estimate. */
  graphCandidateCost?: number;
  /** BM25 rankings run beside the graph search from this many vectors (DEFAULT_PARALLEL_KEYWORD_FROM). */
  parallelKeywordFrom?: number;
  /** false: never open the dense index, always scan exactly (a reference for tests and the bench). */
  denseIndex?: boolean;
}
