import type { SearchMode, SearchRequest, SearchResponse, SearchResult, SimilarRequest } from '../../shared/api-types.js';
import type { Embedder } from '../embedders/embedder.js';
import { DomainError } from '../errors/domain-error.js';
import type { FusionWeights, ScoredPoint, StoreQuery, VectorStore } from '../stores/vector-store.js';
import { fusionWeights } from '../fusion/weights.js';
import { rerankByCloneMatch } from './clone-match.js';
import { DocumentLeads } from './document-leads.js';
import { dedupeByContent, rerank } from './rerank.js';

export const DEFAULT_RESULTS = 10;
/** Candidates fetched per result wanted: room for dedupe and re-rank to matter. */
const CANDIDATE_FACTOR = 3;
const MIN_CANDIDATES = 30;

/** Told the mode and duration of each completed search (metrics); `similar` is Find Similar. */
export type SearchObserver = (mode: SearchMode | 'similar', seconds: number) => void;

/** A search's missing piece (an unknown chunk id). */
export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super('not_found', message);
  }
}

function baseScore(mode: SearchMode): (p: ScoredPoint) => number {
  if (mode === 'dense') return (p) => p.dense ?? 0;
  if (mode === 'keyword') return (p) => p.keyword ?? 0;
  return (p) => p.fused;
}

function toResult(r: { point: ScoredPoint; score: number }): SearchResult {
  const p = r.point.payload;
  return {
    id: r.point.id,
    score: Math.round(r.score * 10000) / 10000,
    content: p.content,
    file_path: p.file_path,
    section: p.section,
    start_line: p.start_line,
    end_line: p.end_line,
    taxonomy: p.taxonomy,
    content_type: p.content_type,
    scores: { dense: r.point.dense, keyword: r.point.keyword, fused: r.point.fused },
  };
}

/** The retrieve step of search and ask (docs/architecture.md, "Path of a search"): embed, hybrid search, dedupe, re-rank. */
export class SearchService {
  constructor(
    private readonly store: VectorStore,
    private readonly embedder: Embedder,
    private readonly observe?: SearchObserver,
  ) {
    this.weights = fusionWeights(embedder.id);
    this.leads = new DocumentLeads(store);
  }

  private readonly weights: FusionWeights;
  private readonly leads: DocumentLeads;

  async search(req: SearchRequest): Promise<SearchResponse> {
    const started = performance.now();
    const mode = req.mode ?? 'hybrid';
    const n = req.n_results ?? DEFAULT_RESULTS;
    const query: StoreQuery = { mode, limit: Math.max(n * CANDIDATE_FACTOR, MIN_CANDIDATES), filters: req.filters, weights: this.weights };
    if (mode !== 'keyword') [query.vector] = await this.embedder.embed([req.query], 'query');
    if (mode !== 'dense') query.text = req.query;
    const candidates = dedupeByContent(await this.store.search(query));
    const results = rerank(req.query, candidates, baseScore(mode), await this.leads.of(candidates)).slice(0, n).map(toResult);
    const elapsed = performance.now() - started;
    this.observe?.(mode, elapsed / 1000);
    return { query: req.query, mode, results, took_ms: Math.round(elapsed * 10) / 10 };
  }

  /**
   * Chunks like a text or a stored chunk: hybrid, as search is. The vector
   * finds passages that read alike; the text's identifiers and words, fed to
   * keyword search, find the near-copies a lexical embedder ranks loosely
   * (docs/retrieval.md). The source chunk, and chunks overlapping
   * `exclude_range` (the selection's own lines), are left out;
   * `exclude_file_path` leaves out a whole file.
   */
  async similar(req: SimilarRequest): Promise<SearchResponse> {
    const started = performance.now();
    const n = req.n_results ?? DEFAULT_RESULTS;
    let vector: Float32Array | undefined;
    let text = req.text ?? '';
    if (req.id) {
      const point = await this.store.getPoint(req.id);
      if (!point) throw new NotFoundError(`id: no chunk with id ${req.id}; search again to get current ids`);
      vector = point.vector;
      text = point.payload.content;
    } else {
      [vector] = await this.embedder.embed([text], 'query');
    }
    const range = req.exclude_range;
    const found = await this.store.search({
      mode: 'hybrid',
      vector,
      text,
      limit: Math.max(n * CANDIDATE_FACTOR, MIN_CANDIDATES),
      excludeFilePath: req.exclude_file_path,
      weights: this.weights,
    });
    const own = (p: ScoredPoint) =>
      p.id === req.id ||
      (range !== undefined && p.payload.file_path === range.file_path && p.payload.start_line <= range.end_line && p.payload.end_line >= range.start_line);
    const candidates = dedupeByContent(found.filter((p) => !own(p)));
    // Re-ranked as a search for the text is (rerank.ts), then near-copies of the text lifted (clone-match.ts).
    const results = rerankByCloneMatch(text, rerank(text, candidates, baseScore('hybrid'))).slice(0, n).map(toResult);
    const elapsed = performance.now() - started;
    this.observe?.('similar', elapsed / 1000);
    return { query: text.slice(0, 200), mode: 'hybrid', results, took_ms: Math.round(elapsed * 10) / 10 };
  }
}
