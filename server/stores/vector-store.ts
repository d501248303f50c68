import type { ChunkPayload, SearchFilters, SearchMode, TaxonomyPath } from '../../shared/api-types.js';
import type { EmbedderInfo } from '../embedders/embedder.js';
import { DomainError } from '../errors/domain-error.js';
import type { CircuitBreaker } from '../reliability/circuit-breaker.js';

export interface StoredPoint {
  id: string;
  vector: Float32Array;
  payload: ChunkPayload;
}

/** One indexed file, as the store knows it (drives skip-if-unchanged). */
export interface FileRecord {
  file_path: string;
  file_hash: string;
  chunk_count: number;
  content_type: ChunkPayload['content_type'];
  taxonomy: TaxonomyPath;
  confidence: number;
  contributor: string | null;
  indexed_at: string;
}

/** A chunk's place and text, as a document's opening is read from it. */
export type LeadingChunk = Pick<ChunkPayload, 'chunk_index' | 'start_line' | 'end_line' | 'content'>;

export interface StoreQuery {
  mode: SearchMode;
  /** Needed for `dense` and `hybrid`. */
  vector?: Float32Array;
  /** Needed for `keyword` and `hybrid`. */
  text?: string;
  limit: number;
  filters?: SearchFilters;
  excludeFilePath?: string;
  /** Hybrid only: how much each side's ranking counts in the fusion; both 1 when absent. */
  weights?: FusionWeights;
}

/** Weights of the normalised score fusion (fusion/score-fusion.ts); fusion/weights.ts chooses them per embedder. */
export interface FusionWeights {
  dense: number;
  keyword: number;
}

export interface ScoredPoint {
  id: string;
  payload: ChunkPayload;
  /** Cosine similarity, when the dense side found this point. */
  dense: number | null;
  /** BM25 score (higher is better), when the keyword side found it. */
  keyword: number | null;
  /** Hybrid: the normalised score fusion of both sides (fusion/score-fusion.ts), in [0, 1]; the side's own score otherwise. */
  fused: number;
}

export interface StoreStats {
  points_count: number;
  documents: number;
  by_content_type: Record<string, number>;
  by_taxonomy: Record<string, number>;
  last_indexed_at: string | null;
}

/** Thrown when a store built with one embedder is opened with another (`embedder_mismatch`). */
export class EmbedderMismatchError extends DomainError {
  override name = 'EmbedderMismatchError';
  constructor(message: string) {
    super('embedder_mismatch', message);
  }
}

/** Thrown when the backing service cannot be reached (`store_unavailable`: the API answers 503). */
export class StoreUnavailableError extends DomainError {
  override name = 'StoreUnavailableError';
  constructor(message: string) {
    super('store_unavailable', message);
  }
}

export interface VectorStore {
  readonly kind: 'embedded' | 'qdrant';
  /** A path or URL for humans (never carries a key). */
  readonly location: string;
  /** Remote stores only: the service's circuit breaker (health reads it). */
  readonly breaker?: CircuitBreaker;
  /** Creates what is missing; refuses (EmbedderMismatchError) a store built with another embedder. */
  init(embedder: EmbedderInfo): Promise<void>;
  /**
   * Stores with an in-process search index: starts opening it in the
   * background (searches stay exact and correct meanwhile); resolves when it
   * serves. The server calls it at start; one-shot commands never need it.
   */
  prepareIndex?(): Promise<void>;
  /**
   * Stores with an in-process search index: resolves once that index has
   * taken in every write made before the call (the bench times indexing with
   * this included). Searches never wait for it.
   */
  indexSettled?(): Promise<void>;
  /**
   * Makes `points` the file's whole content: new points are written before the
   * file's other points are removed, so a search never sees the file missing.
   */
  replaceFile(file: FileRecord, points: StoredPoint[]): Promise<void>;
  /** Removes a file's points and record; returns how many points went. */
  deleteFile(filePath: string): Promise<number>;
  /** Upserts points as they are (migration); ids are deterministic so this is idempotent. */
  upsertPoints(points: StoredPoint[], files: FileRecord[]): Promise<void>;
  search(query: StoreQuery): Promise<ScoredPoint[]>;
  getPoint(id: string): Promise<StoredPoint | null>;
  getFile(filePath: string): Promise<FileRecord | null>;
  listFiles(): Promise<FileRecord[]>;
  /** Chunks of one file in order (for documents and re-classification). */
  fileChunks(filePath: string): Promise<StoredPoint[]>;
  /**
   * The first `perFile` chunks (by chunk_index, without vectors) of each of
   * `filePaths` that has any: a document's opening, for search's lead term
   * (retrieval/document-leads.ts).
   */
  leadingChunks(filePaths: readonly string[], perFile: number): Promise<Map<string, LeadingChunk[]>>;
  /** Updates taxonomy fields of a file and its chunks without touching vectors. */
  setTaxonomy(filePath: string, taxonomy: TaxonomyPath, confidence: number): Promise<void>;
  count(filters?: SearchFilters): Promise<number>;
  /** Pages through every point in a stable order; `cursor` null starts. */
  scroll(cursor: string | null, limit: number): Promise<{ points: StoredPoint[]; next: string | null }>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
