import type { ChunkPayload } from '../../../shared/api-types.js';
import { EQUAL_WEIGHTS, fuseScores, hybridSideLimit } from '../../fusion/score-fusion.js';
import { normalizeFilters } from '../filters.js';
import { allArms, armWords, ftsArms, joinArms } from '../fts-query.js';
import type { ScoredPoint, StoreQuery } from '../vector-store.js';
import { SqliteReader } from '../../storage/sqlite-reader.js';
import { EmbeddedDenseUpkeep } from './dense-upkeep.js';
import { ArmCounts } from './arm-counts.js';
import { FilterKnowledge, countedRows, type FilterFacts } from './filter-knowledge.js';
import { num, numOrNull, row, rowToPayload, text, vectorBlob } from './rows.js';
import { CHUNK_SELECT, FILTER_COLUMNS_INDEX } from './schema.js';
import { andWhere, filterKey, rowidsPassingSql, sqlFilter, type SqlFilter } from './sql-filter.js';

/**
 * bm25 column weights, in `chunks_fts` column order. Section headings and the
 * identifier column count double: a heading names what a chunk is about, and
 * an identifier hit means the query named a symbol the chunk uses. File paths
 * sit between (they name the topic but every chunk of a file shares them).
 */
const BM25_WEIGHTS = { content: 1.0, section: 2.0, file_path: 1.5, idents: 2.0 } as const;
const BM25 = `bm25(chunks_fts, ${BM25_WEIGHTS.content}, ${BM25_WEIGHTS.section}, ${BM25_WEIGHTS.file_path}, ${BM25_WEIGHTS.idents})`;

/** The share of the pool a filtered search re-ranks (see candidatePool). */
const FILTERED_POOL_SHARE = 0.75;

/**
 * HNSW candidates re-ranked exactly per dense search (the graph's search beam
 * is wider, see dense-index.ts). 50 for a top-10 already gave recall@10 1.0 on
 * 50k clustered 1024-dim vectors; 100 was needed on random ones. Each
 * candidate costs one exact re-rank read (~6 µs).
 *
 * A hybrid search sizes it by its own limit, not by the deeper list its dense
 * side hands to fusion: those deeper rows only add to keyword hits, and a
 * filter multiplies the graph candidates the pool needs (1 / the filter's
 * share). At 100k clustered chunks and a 15 % filter, the side's pool of 200
 * took the graph 1,780 candidates (13 ms of a 24 ms p50); with the pool of
 * the hybrid's limit (100) 890, and the p50 was 14.5 ms; 196 of 200 queries
 * gave the exact hybrid's top 10 in its order and 1,999 of its 2,000 rows,
 * where the side's pool gave 198 and 2,000 (`npm run bench` prints both).
 *
 * Under a filter the pool is a quarter smaller (FILTERED_POOL_SHARE). Each pooled candidate costs
 * 1 / the filter's share graph candidates, and a graph search's time grows
 * faster than its candidates once they reach past the query's own
 * neighbourhood (at 1M, 2.7 ms for 1,000, 17–19 ms for 2,500). That deep, the
 * graph's reach, not the pool, is what the results lack: with a 5 % folder
 * filter (100 queries against exact search), the hybrid's top 10 agreed
 * 0.998 at 1M with a pool of 100 or 75 (98 of 100 queries in exact order
 * either way) and 0.995 / 0.993 at 300k, where a dense top 10 agreed 0.994
 * with both; the graph was asked for 1,875 candidates instead of 2,500 and
 * the hybrid's p95 fell from 32.5 to 22.1 ms (300k). A pool of 50 lost more
 * (1M: 0.994, 90 queries in exact order).
 */
function candidatePool(limit: number, filtered: boolean): number {
  const pool = Math.max(100, limit * 4);
  return filtered ? Math.ceil(pool * FILTERED_POOL_SHARE) : pool;
}

/**
 * With a filter, the graph is asked again until as many candidates pass as an
 * unfiltered search re-ranks (the pool): the deepest candidates of a graph
 * search are its least certain, so stopping at 'limit' passing ones let them
 * decide the last ranks (0.97 of exact filtered results at 30k clustered
 * vectors; twice 'limit' still missed far neighbours in the exactness
 * property test). Each round sizes its request from the share that passed so
 * far, with OVERFETCH_MARGIN more candidates than that share says the pool
 * needs, at most OVERFETCH_GROWTH times the last, for at most
 * OVERFETCH_ROUNDS rounds; then the filter's rows are scanned exactly.
 *
 * A first request sized from the share remembered from earlier queries is
 * enough once the pool less that margin has passed: a query whose
 * neighbourhood holds fewer of the filter's rows than remembered would
 * otherwise pay a whole second graph search for a few candidates (at 300k
 * with a 5 % folder filter, 8 of 200 hybrid queries took 27–29 ms instead of
 * 14), and the shortfall only narrows the re-rank's margin. The results'
 * agreement with exact search was unchanged (0.993 and 0.998 at 300k and 1M).
 */
const OVERFETCH_MARGIN = 1.25;
const OVERFETCH_GROWTH = 16;
const OVERFETCH_ROUNDS = 4;

/**
 * A filtered keyword search first ranks, without the filter, enough rows for
 * about KEYWORD_FILTER_MARGIN times its limit to pass (by the share of graph
 * candidates that passed the filter, filter-knowledge.ts), at most
 * KEYWORD_FILTER_MAX_DEPTH; only then does it join every match (keywordSearch).
 */
const KEYWORD_FILTER_MARGIN = 2;
const KEYWORD_FILTER_MIN_DEPTH = 8;
const KEYWORD_FILTER_MAX_DEPTH = 4_000;

/**
 * How many times the row budget the doclist entries a keyword search walks
 * may number (keywordMatch): walking an entry costs about a tenth of ranking
 * a row (at 1M chunks, the two rarest words' 22,000 entries and their 300
 * rows in common took 2–4 ms; ranking 8,500–14,000 rows, 10–19). At 1M
 * chunks of the bench's 6,000-word vocabulary, 8 left 73 of 200 hybrid
 * queries to their dense side (hybrid p95 5.1 ms), 16 left 35 (p95 7.1–8.8).
 */
const KEYWORD_WALK_FACTOR = 16;

/**
 * The remembered share a filter passes at, after a search saw `seen`: the
 * mean of the two. One query's neighbours can hold few of a folder's chunks
 * (a 5 % folder filter at 1M saw 0.5 % once), and taken alone that share
 * sent the next search with the filter to scan 50,000 rows exactly (229 ms)
 * instead of asking the graph for 5,000 candidates (65–100 ms).
 */
function nextShare(remembered: number | null, seen: number): number {
  return remembered === null ? seen : (remembered + seen) / 2;
}

interface Ranked {
  rowid: number;
  score: number;
}

/**
 * EmbeddedStore's search (the chain: database → dense-upkeep → search →
 * store): dense (graph candidates re-ranked exactly, or an exact scan),
 * keyword (FTS5 bm25) and hybrid (both, fused by fusion/score-fusion.ts).
 */
export abstract class EmbeddedSearch extends EmbeddedDenseUpkeep {
  private readonly filterKnowledge = new FilterKnowledge();
  private readonly armCounts = new ArmCounts();
  /** The second connection BM25 rankings run on (bm25Ranking), opened on first use; `false` once it failed. */
  private reader: SqliteReader | null | false = null;

  async search(query: StoreQuery): Promise<ScoredPoint[]> {
    this.ready();
    const limit = Math.floor(query.limit);
    if (!(limit >= 1)) return [];
    const { mode, vector, text: queryText } = query;
    if (mode !== 'keyword' && vector === undefined) throw new Error(`search: mode "${mode}" needs query.vector; embed the query text first`);
    if (mode !== 'dense' && queryText === undefined) throw new Error(`search: mode "${mode}" needs query.text`);
    const filter = sqlFilter(normalizeFilters(query.filters, query.excludeFilePath));
    const side = mode === 'hybrid' ? hybridSideLimit(limit) : limit;
    // Hybrid sends BM25 off first: on a large store it ranks on the reader's thread while the graph search runs here.
    const pendingKeyword = queryText === undefined || mode === 'dense' ? null : this.keywordSearch(queryText, side, filter, mode === 'hybrid');
    // A hybrid's dense side returns `side` rows but re-ranks the pool of a dense search for `limit` (see candidatePool).
    const pool = candidatePool(limit, filter.conditions.length > 0);
    const dense = vector === undefined || mode === 'keyword' ? [] : this.denseSearch(vector, side, filter, pool);
    const keyword = pendingKeyword === null ? [] : await pendingKeyword;

    if (mode === 'dense') return this.toScored(dense.map((d) => ({ rowid: d.rowid, dense: d.score, keyword: null, fused: d.score })));
    if (mode === 'keyword') return this.toScored(keyword.map((k) => ({ rowid: k.rowid, dense: null, keyword: k.score, fused: k.score })));

    const fused = fuseScores(dense.map(({ rowid, score }) => ({ id: rowid, score })), keyword.map(({ rowid, score }) => ({ id: rowid, score })), query.weights ?? EQUAL_WEIGHTS);
    const denseBy = new Map(dense.map((d) => [d.rowid, d.score]));
    const keywordBy = new Map(keyword.map((k) => [k.rowid, k.score]));
    // Equal fused scores go to the higher cosine, then to the older row.
    const ranked = [...fused.entries()]
      .map(([rowid, score]) => ({ rowid, score }))
      .sort((a, b) => b.score - a.score || (denseBy.get(b.rowid) ?? -2) - (denseBy.get(a.rowid) ?? -2) || a.rowid - b.rowid)
      .slice(0, limit);
    return this.toScored(
      ranked.map((r) => ({ rowid: r.rowid, dense: denseBy.get(r.rowid) ?? null, keyword: keywordBy.get(r.rowid) ?? null, fused: r.score })),
    );
  }

  private toScored(hits: Array<{ rowid: number; dense: number | null; keyword: number | null; fused: number }>): ScoredPoint[] {
    const points = this.pointsByRowid(hits.map((h) => h.rowid));
    const out: ScoredPoint[] = [];
    for (const h of hits) {
      const p = points.get(h.rowid);
      if (p !== undefined) out.push({ id: p.id, payload: p.payload, dense: h.dense, keyword: h.keyword, fused: h.fused });
    }
    return out;
  }

  /**
   * Dense search: HNSW candidates re-ranked exactly, or an exact scan when the
   * graph is not ready, the store is small, or the filter matches few chunks.
   * Filters are applied exactly, never approximated: the graph's candidates are
   * checked against the filter in SQL, and when too few pass the graph is asked
   * for more (OVERFETCH_GROWTH times, up to OVERFETCH_ROUNDS rounds), then the filter's
   * rows are scanned exactly. The re-rank reads the vectors SQLite holds now,
   * so a deleted chunk can never come back and a changed one is scored as it is.
   */
  private denseSearch(vector: Float32Array, limit: number, filter: SqlFilter, pool: number): Ranked[] {
    this.checkVector(vector, 'search: query vector');
    let norm = 0;
    for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
    if (norm === 0) return [];
    const graph = this.denseForSearch();
    if (graph === null || graph.index.size < this.exactBelow) return this.exactSearch(vector, limit, filter);
    const known = filter.conditions.length === 0 ? null : this.filterKnowledge.at(filterKey(filter), this.changeStamp());
    if (known !== null && this.filterRowsAtMost(filter, known, this.exactFilterRows)) return this.exactSearch(vector, limit, filter);
    // Rows changed by another process that the graph has not taken in yet are scored exactly beside its candidates.
    const behind = graph.behindFrom === null ? [] : this.rowids('SELECT DISTINCT chunk_rowid FROM vector_log WHERE seq > ?', graph.behindFrom);
    // Candidates the graph must give for the pool to pass, at a share, with the margin.
    const needed = (share: number) => Math.ceil((pool / share) * OVERFETCH_MARGIN);
    // The share that passed this filter last time sizes the first request (filter-knowledge.ts), raised to the filter's
    // own share of the graph once its rows were counted exactly: one query whose neighbours held few of a filter's
    // rows pulls the remembered share far below what the filter holds, and the next search then asked for thousands
    // of candidates more than it needed, or scanned the filter's rows (at 100k, a 5 % folder filter's 5,000 rows
    // in 27–40 ms where the graph took 12–15).
    const sizingShare = () => {
      if (!known?.share) return null;
      const own = countedRows(known);
      return Math.max(known.share, own === null ? 0 : own / graph.index.size);
    };
    const first = sizingShare();
    let want = first ? needed(first) : pool;
    const firstEnough = first ? Math.max(limit, Math.ceil(pool / OVERFETCH_MARGIN)) : pool;
    for (let round = 0; round < OVERFETCH_ROUNDS; round++) {
      // A filter that needs half the graph as candidates matches few rows (about 2.5 × the pool at most):
      // scanning them exactly is cheaper, and exact, where a graph search that deep may still miss one.
      if (known !== null && want * 2 >= graph.index.size && this.filterRowsAtMost(filter, known, want)) break;
      // The filter's rows, estimated by the share that passed, cost less to scan than the candidates the graph would
      // need. The share is a guess from earlier queries' neighbours, so the rows are counted (up to that cost) first.
      const guess = sizingShare();
      const scanRows = guess ? needed(guess) * this.graphCandidateCost : 0;
      if (known !== null && guess && guess * graph.index.size <= scanRows && this.filterRowsAtMost(filter, known, Math.floor(scanRows))) {
        // Counted, the filter may hold more of the graph than guessed: scanned only if that is still cheaper.
        const counted = sizingShare() ?? guess;
        if (needed(counted) * this.graphCandidateCost >= counted * graph.index.size) break;
        // A later round's request is sized by what this query's candidates passed, and stays so.
        if (round === 0) want = needed(counted);
      }
      const found = graph.index.search(vector, want);
      // The rows the graph lags on first, so the re-rank's slice below can never cut them off.
      const candidates = behind.length === 0 ? found : [...new Set([...behind, ...found])];
      const kept = filter.conditions.length === 0 ? candidates : this.passing(candidates, filter);
      if (known !== null && found.length > 0) known.share = nextShare(known.share, Math.max(kept.length, 1) / found.length);
      // Enough passed (see OVERFETCH_MARGIN), or the graph had nothing more to give (every indexed vector was a candidate).
      const exhausted = found.length < want;
      if (kept.length >= (round === 0 ? firstEnough : pool) || (exhausted && kept.length >= limit)) return this.exactRerank(vector, kept.slice(0, pool + behind.length), limit);
      if (exhausted) break;
      const share = Math.max(kept.length, 1) / found.length;
      want = Math.min(needed(share), want * OVERFETCH_GROWTH);
    }
    return this.exactSearch(vector, limit, filter);
  }

  /**
   * Whether `filter` matches at most `cap` chunks: counted up to the cap (an
   * index range for a folder or taxonomy) when what is known of it at this
   * database state does not tell (filter-knowledge.ts).
   */
  private filterRowsAtMost(filter: SqlFilter, known: FilterFacts, cap: number): boolean {
    return this.filterRowsUpTo(filter, known, cap) <= cap;
  }

  /** The filter's rows up to `cap`, or more than `cap` (filter-knowledge.ts, rowsUpTo). */
  private filterRowsUpTo(filter: SqlFilter, known: FilterFacts, cap: number): number {
    return this.filterKnowledge.rowsUpTo(known, cap, (upTo) =>
      this.scalar(`SELECT count(*) AS n FROM (SELECT 1 FROM chunks c ${andWhere(filter, true)} LIMIT ?)`, ...filter.params, upTo + 1),
    );
  }

  private exactRerank(vector: Float32Array, rowids: number[], limit: number): Ranked[] {
    if (rowids.length === 0) return [];
    const rows = this.stmt(
      'SELECT rowid, vec_distance_cosine(embedding, ?) AS distance FROM chunk_vectors WHERE rowid IN (SELECT value FROM json_each(?))',
    ).all(vectorBlob(vector), JSON.stringify(rowids));
    const ranked: Ranked[] = rows.map((r) => {
      const rr = row(r, 'chunk_vectors');
      // NULL distance: the stored vector is all zeros; cosine is undefined, call it 0.
      const distance = numOrNull(rr, 'distance');
      return { rowid: num(rr, 'rowid'), score: distance === null ? 0 : 1 - distance };
    });
    ranked.sort((a, b) => b.score - a.score || a.rowid - b.rowid);
    return ranked.slice(0, limit);
  }

  /** The rowids among `rowids` whose chunk exists and passes `filter`, in the given order (filter-knowledge.ts). */
  private passing(rowids: number[], filter: SqlFilter): number[] {
    if (rowids.length === 0) return [];
    const lookup = () => {
      const pass = new Set(this.rowids(rowidsPassingSql(filter), JSON.stringify(rowids), ...filter.params));
      return rowids.filter((r) => pass.has(r));
    };
    const readAll = (limit: number) => this.rowids(`SELECT c.rowid FROM chunks c ${andWhere(filter, true)} LIMIT ?`, ...filter.params, limit);
    return this.filterKnowledge.passing(filterKey(filter), this.changeStamp(), rowids, lookup, readAll);
  }

  /** Exact cosine against every stored vector that passes `filter`: the truth the graph approximates. */
  private exactSearch(vector: Float32Array, limit: number, filter: SqlFilter): Ranked[] {
    const from =
      filter.conditions.length === 0 ? 'FROM chunk_vectors v' : `FROM chunks c JOIN chunk_vectors v ON v.rowid = c.rowid ${andWhere(filter, true)}`;
    // A NULL distance (an all-zero stored vector) scores 0, as in exactRerank.
    const rows = this.stmt(
      `SELECT rowid, distance FROM (SELECT v.rowid AS rowid, vec_distance_cosine(v.embedding, ?) AS distance ${from})
       ORDER BY coalesce(distance, 1), rowid LIMIT ?`,
    ).all(vectorBlob(vector), ...filter.params, limit);
    return rows.map((r) => {
      const rr = row(r, 'chunk_vectors');
      const distance = numOrNull(rr, 'distance');
      return { rowid: num(rr, 'rowid'), score: distance === null ? 0 : 1 - distance };
    });
  }

  /**
   * The MATCH expression for `queryText` within the keyword budgets: the rows
   * FTS5 ranks (keywordRowBudget) and the doclist entries it walks to find
   * them (KEYWORD_WALK_FACTOR times that). Each arm's matches are counted,
   * capped, and so is each of its words' rows: a phrase is found by walking
   * the rows of each of its words, so at 1M chunks a whole-query phrase with
   * one match took 25 ms to rank when its words were all common. Arms are
   * taken rarest first while both budgets hold.
   *
   * When no arm fits, the rows holding both of the two rarest words are ranked
   * if they fit: the rows a disjunction of common words ranks first are the
   * ones holding several of them. At 1M chunks, ranking the rarest word alone
   * (8,500–14,000 rows) took 10–19 ms; the rows holding the two rarest, 2–4 ms.
   * When that does not fit either, a keyword search still ranks the rarest
   * arm, slowly on a large store, while a hybrid search leaves the query to its
   * dense side: a word in that many chunks tells BM25 little.
   */
  private keywordMatch(queryText: string, hybrid: boolean): string | null {
    const arms = ftsArms(queryText);
    if (arms.length === 0) return null;
    const probe = this.stmt('SELECT count(*) AS n FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)');
    const generation = this.generation();
    const budget = this.keywordRowBudget;
    const walkCap = budget * KEYWORD_WALK_FACTOR;
    const counted = (expression: string, cap: number) =>
      this.armCounts.count(generation, `${cap}\u0000${expression}`, () => num(row(probe.get(expression, cap + 1), 'chunks_fts'), 'n'));
    // A word past the row budget is counted again, up to the walk budget, only when a phrase or a conjunction needs it.
    const walk = (word: string) => {
      const rows = counted(word, budget);
      return rows <= budget ? rows : counted(word, walkCap);
    };
    const costed = arms
      .map((a, order) => {
        const words = armWords(a);
        return { a, order, single: words.length === 1, rows: counted(a, budget), walk: () => words.reduce((sum, w) => sum + walk(w), 0) };
      })
      .filter((c) => c.rows > 0)
      .sort((x, y) => x.rows - y.rows || x.order - y.order);
    const kept: typeof costed = [];
    let rows = 0;
    let walked = 0;
    for (const c of costed) {
      if (rows + c.rows > budget) continue;
      const w = c.walk();
      if (walked + w > walkCap) continue;
      kept.push(c);
      rows += c.rows;
      walked += w;
    }
    if (kept.length > 0) return joinArms(kept.sort((x, y) => x.order - y.order).map((c) => c.a));
    const [rarest, next] = costed
      .filter((c) => c.single)
      .map((c) => ({ a: c.a, walk: c.walk() }))
      .sort((x, y) => x.walk - y.walk);
    if (rarest !== undefined && next !== undefined && rarest.walk + next.walk <= walkCap) {
      const both = allArms([rarest.a, next.a]);
      if (counted(both, budget) <= budget) return both;
    }
    return hybrid ? null : (costed[0]?.a ?? null);
  }

  /** A hybrid search's keyword side (`hybrid`) ranks beside the graph search and may leave a query to it (keywordMatch). */
  private async keywordSearch(queryText: string, limit: number, filter: SqlFilter, hybrid: boolean): Promise<Ranked[]> {
    const match = this.keywordMatch(queryText, hybrid);
    if (match === null) return [];
    const unfiltered = `SELECT rowid, -${BM25} AS score FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY ${BM25} LIMIT ?`;
    if (filter.conditions.length === 0) return this.bm25Ranking(unfiltered, [match, limit], hybrid);
    // Joining chunks to test the filter costs a lookup per matched row, thousands for a common
    // word: the best rows are ranked without it first and only they are tested (FTS5 scores every
    // match either way, so a deeper first ranking costs little more than a shallow one). When too
    // few of them pass (a selective filter), every match is joined and tested. At 100k chunks, a 15 %
    // filter and 50 results: p50 9.5–9.8 ms (ranking, then a second query for the filter), against
    // 14.5–20 ms when such a filter joined every match.
    const share = this.filterKnowledge.share(filterKey(filter)) ?? this.libraryShare(filter);
    const depth = Math.ceil(limit * Math.max(KEYWORD_FILTER_MIN_DEPTH, KEYWORD_FILTER_MARGIN / (share ?? 1)));
    if (depth <= KEYWORD_FILTER_MAX_DEPTH) {
      // The first `depth` rows are tested against the filter as graph candidates are (`passing`): on its
      // rowids held in memory once it is used again at the same database state (filter-knowledge.ts), else in one
      // lookup. At 300k chunks, a 5 % folder filter and 2,000 rows: ranking them took 4.5 ms and testing them
      // on held rows a fraction of one, where ranking them joined to the filter in one query took 9.7.
      const ranked = await this.bm25Ranking(unfiltered, [match, depth], hybrid);
      const pass = new Set(this.passing(ranked.map((r) => r.rowid), filter));
      const kept = ranked.filter((r) => pass.has(r.rowid)).sort((a, b) => b.score - a.score || a.rowid - b.rowid);
      // Enough passed (no row below the first `depth` can outrank them), or those rows were every match.
      if (kept.length >= limit || ranked.length < depth) return kept.slice(0, limit);
    }
    return this.bm25Ranking(
      `SELECT c.rowid AS rowid, -${BM25} AS score
       FROM chunks_fts JOIN chunks c INDEXED BY ${FILTER_COLUMNS_INDEX} ON c.rowid = chunks_fts.rowid
       WHERE chunks_fts MATCH ? ${andWhere(filter, false)}
       ORDER BY ${BM25} LIMIT ?`,
      [match, ...filter.params, limit],
      hybrid,
    );
  }

  /**
   * The share of the library's chunks a filter matches, for a filter no graph
   * search has sized yet (filter-knowledge.ts): counted up to the share past
   * which the keyword side's first ranking is no deeper (KEYWORD_FILTER_MIN_DEPTH),
   * once per database state. A keyword-only search never asks the graph, so
   * without it every filtered one ranked a shallow first list: at 300k chunks
   * and a 5 % folder, 400 rows of which too few passed, then every match
   * joined to the filter, 17 ms p50 where one ranking deep enough took 7.
   * Null without a graph: the store is small, or its graph is being built.
   */
  private libraryShare(filter: SqlFilter): number | null {
    const chunks = this.dense?.size ?? 0;
    if (chunks === 0) return null;
    const known = this.filterKnowledge.at(filterKey(filter), this.changeStamp());
    const rows = this.filterRowsUpTo(filter, known, Math.ceil((chunks * KEYWORD_FILTER_MARGIN) / KEYWORD_FILTER_MIN_DEPTH));
    return Math.min(1, Math.max(rows, 1) / chunks);
  }

  private keywordReader(): SqliteReader | null {
    if (this.reader === false || this.closed || (this.dense?.size ?? 0) < this.parallelKeywordFrom) return null;
    this.reader ??= new SqliteReader(this.location);
    return this.reader;
  }

  private async dropKeywordReader(reader: SqliteReader): Promise<void> {
    if (this.reader === reader) this.reader = false;
    await reader.close();
  }

  /** Closes the second connection (the store's close). */
  protected async closeKeywordReader(): Promise<void> {
    const reader = this.reader;
    this.reader = null;
    if (reader) await reader.close();
  }

  /**
   * Runs a BM25 ranking query: `beside` a graph search, on the second
   * connection's thread when the store is large enough for it to pay
   * (storage/sqlite-reader.ts), else here. A keyword-only search has nothing
   * to overlap and stays here (the message and copy cost it ~1 ms). A reader
   * that fails is dropped and the query runs here: the same SQL on the same file.
   */
  private async bm25Ranking(sql: string, params: unknown[], beside: boolean): Promise<Ranked[]> {
    const reader = beside ? this.keywordReader() : null;
    let rows: unknown[];
    if (reader === null) rows = this.stmt(sql).all(...params);
    else {
      try {
        rows = await reader.all(sql, params);
      } catch {
        await this.dropKeywordReader(reader);
        rows = this.stmt(sql).all(...params);
      }
    }
    return rows.map((r) => {
      const rr = row(r, 'chunks_fts');
      return { rowid: num(rr, 'rowid'), score: num(rr, 'score') };
    });
  }

  private pointsByRowid(rowids: number[]): Map<number, { id: string; payload: ChunkPayload }> {
    const out = new Map<number, { id: string; payload: ChunkPayload }>();
    if (rowids.length === 0) return out;
    const rows = this.stmt(`SELECT ${CHUNK_SELECT} FROM chunks c WHERE c.rowid IN (SELECT value FROM json_each(?))`).all(JSON.stringify(rowids));
    for (const r of rows) {
      const rr = row(r, 'chunks');
      out.set(num(rr, 'rowid'), { id: text(rr, 'id'), payload: rowToPayload(rr) });
    }
    return out;
  }
}
