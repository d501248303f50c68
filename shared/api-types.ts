/**
 * The types of every payload that crosses the wire between the server, the
 * extension and the webview, and the constants they name. No zod here: the
 * webview and the extension import these without pulling the schemas in. Each
 * type's runtime check is its schema in `api-schemas.ts`, which the compiler
 * holds to the type here.
 */
import type { ErrorCode } from './error-codes.js';

export const CONTENT_TYPES = ['markdown', 'code', 'text'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

export const SEARCH_MODES = ['hybrid', 'dense', 'keyword'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

export const UNCATEGORIZED = 'uncategorized';

export interface TaxonomyPath {
  full_path: string;
  level1: string;
  level2: string | null;
}

/** What a store keeps beside each vector: what results show and filters match (docs/architecture.md). */
export interface ChunkPayload {
  file_path: string;
  content: string;
  content_type: ContentType;
  language: string | null;
  section: string;
  start_line: number;
  end_line: number;
  chunk_index: number;
  content_hash: string;
  file_hash: string;
  taxonomy: TaxonomyPath;
  classification: { confidence: number };
  contributor: string | null;
  created_at: string;
  updated_at: string;
}

export interface SearchFilters {
  taxonomy?: string;
  content_type?: ContentType | ContentType[];
  /** A library path (file or folder prefix) to search inside. */
  file_path?: string;
}

export interface SearchRequest {
  query: string;
  n_results?: number;
  filters?: SearchFilters;
  mode?: SearchMode;
}

export interface SearchResult {
  id: string;
  score: number;
  content: string;
  file_path: string;
  section: string;
  start_line: number;
  end_line: number;
  taxonomy: TaxonomyPath;
  content_type: ContentType;
  /** The evidence behind `score`, so a reader can see why a result ranked. */
  scores: { dense: number | null; keyword: number | null; fused: number };
}

export interface SearchResponse {
  query: string;
  mode: SearchMode;
  results: SearchResult[];
  took_ms: number;
}

export interface ExcludeRange {
  file_path: string;
  start_line: number;
  end_line: number;
}

export interface SimilarRequest {
  text?: string;
  id?: string;
  n_results?: number;
  /** Leaves out the whole file (Find Similar to a document). */
  exclude_file_path?: string;
  /** Leaves out only the chunks overlapping these lines (1-based, inclusive): the selection itself. */
  exclude_range?: ExcludeRange;
}

/** An upload from an editor or an agent: stored as library/<uploads_dir>/<workspace>/<file_path>. */
export interface UploadRequest {
  file_path: string;
  content: string;
  workspace?: string;
}

/** `async: true` runs a full or folder index as a job: 202 {job_id}, then GET /api/library/jobs/:id. */
export type IndexRequest = { all: true; async?: boolean } | { path: string; async?: boolean } | UploadRequest;


export const INDEX_STATUSES = ['indexed', 'unchanged', 'skipped', 'failed', 'deleted'] as const;
export type IndexStatus = (typeof INDEX_STATUSES)[number];

export interface IndexFileResult {
  file_path: string;
  status: IndexStatus;
  chunks: number;
  reason?: string;
  taxonomy?: TaxonomyPath;
}

export interface IndexSummary {
  indexed: number;
  unchanged: number;
  skipped: number;
  failed: number;
  deleted: number;
  chunks: number;
  seconds: number;
}

export interface IndexResponse {
  files: IndexFileResult[];
  summary: IndexSummary;
}

export interface StatsResponse {
  points_count: number;
  documents: number;
  by_content_type: Record<string, number>;
  by_taxonomy: Record<string, number>;
  /** Documents per contributor; files added to library/ directly count under "(unattributed)". */
  by_contributor: Record<string, number>;
  embedder: { id: string; dimension: number };
  store: { kind: string; location: string };
  last_indexed_at: string | null;
}

/** How far an index run is: the one progress shape of index jobs, GET /health and the CLI. */
export interface IndexProgress {
  files_total: number;
  files_done: number;
  /** The file being worked on now; null before the first and after the last. */
  current: string | null;
}

/** GET /health's `indexing`: the index run under way, else the last one this server ran (`idle` before any). */
export interface IndexingStatus extends IndexProgress {
  state: 'idle' | 'running' | 'done' | 'cancelled' | 'failed';
  started_at: string | null;
  finished_at: string | null;
  summary: IndexSummary | null;
  error: string | null;
}

export type DependencyStatus = 'up' | 'degraded' | 'down';

/** One dependency as GET /health sees it. */
export interface DependencyHealth {
  status: DependencyStatus;
  /** How long the (cached) probe took; null when nothing was probed (Claude never is: it costs tokens). */
  latency_ms: number | null;
  /** What was checked and, when not up, why and what to do. */
  detail: string;
  /** The provider's circuit breaker, for remote providers. */
  circuit?: 'closed' | 'open' | 'half_open';
}

export interface HealthResponse {
  status: 'ok' | 'degraded';
  version: string;
  /** `points` is the last count the store answered (0 before it ever did). */
  store: { kind: string; points: number };
  embedder: { id: string };
  indexing: IndexingStatus;
  /**
   * Each dependency. /health answers 200 only when searches can be served
   * (store and embedder up), else 503 with this body. Older servers omit it.
   */
  dependencies?: {
    store: DependencyHealth;
    embedder: DependencyHealth;
    llm: DependencyHealth;
    /** Free space where the server writes (DATA_DIR, LIBRARY_PATH, SESSIONS_PATH); older servers omit it. */
    disk?: DependencyHealth;
  };
  /**
   * Whether documents can be filed: the category descriptions are embedded.
   * Not ready on a fresh DATA_DIR while a remote embedder is down; the detail
   * says why and that it is retried. Older servers omit it.
   */
  taxonomy?: { ready: boolean; detail: string };
}

/**
 * GET /health for a caller /api would refuse (no valid token on a server with
 * tokens, or a remote peer of a server without): the status alone, since the
 * detail names store paths and the files being indexed. Same 200/503.
 */
export interface PublicHealthResponse {
  status: HealthResponse['status'];
}

/** Every non-2xx answer of the API: the code says what kind of failure, the message what to do. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}


// ---- Answers (POST /api/query/ask) ----

export interface AskRequest {
  question: string;
  conversation_id?: string;
  filters?: SearchFilters;
  n_results?: number;
}


/** A retrieved chunk as shown under an answer; `index` is its 1-based [n] in the context. */
export interface AnswerSource {
  index: number;
  id: string;
  file_path: string;
  section: string;
  start_line: number;
  end_line: number;
  score: number;
  snippet: string;
  taxonomy: TaxonomyPath;
}

export interface Citation {
  /** 1-based index into `sources`. */
  source_index: number;
  file_path: string;
  cited_text: string;
  start_line: number;
  end_line: number;
}

export type AnswerMode = 'claude' | 'extractive';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export interface AskResponse {
  answer: string;
  sources: AnswerSource[];
  citations: Citation[];
  confidence: number;
  conversation_id: string;
  mode: AnswerMode;
  model: string | null;
  /** True when the answer stopped early (an error mid-stream, a dropped connection). */
  incomplete: boolean;
  usage: Usage | null;
  /**
   * What the library was searched for when it was not the question alone: a
   * follow-up is searched with its conversation's topic (Claude's standalone
   * rewrite, or the earlier turn's terms). Absent for a first question.
   */
  search_query?: string;
}

/** Server-sent events of a streamed answer, in order: sources, delta*, then done or error. */
export type AskStreamEvent =
  | { event: 'sources'; data: { sources: AnswerSource[]; conversation_id: string; mode: AnswerMode } }
  | { event: 'delta'; data: { text: string } }
  | { event: 'done'; data: AskResponse }
  | { event: 'error'; data: { code: string; message: string; partial: AskResponse | null } };

/** The header a developer's own Anthropic key travels in (never stored, never logged). */
export const ANTHROPIC_KEY_HEADER = 'x-anthropic-api-key';

// ---- Conversations ----

export interface ConversationTurn {
  question: string;
  answer: string;
  sources: AnswerSource[];
  citations: Citation[];
  confidence: number;
  mode: AnswerMode;
  incomplete: boolean;
  created_at: string;
  /** See AskResponse.search_query; the next follow-up takes its topic from it. */
  search_query?: string;
}

export interface ConversationSummary {
  id: string;
  title: string;
  turns: number;
  created_at: string;
  updated_at: string;
}

export interface Conversation extends ConversationSummary {
  history: ConversationTurn[];
}

/** GET /api/conversations: the caller's own, newest first. */
export interface ConversationList {
  conversations: ConversationSummary[];
}

/** DELETE /api/conversations/:id */
export interface ConversationDeleted {
  deleted: string;
}

// ---- Taxonomy and documents ----

export interface DocumentSummary {
  file_path: string;
  title: string;
  chunks: number;
  content_type: ContentType;
  confidence: number;
  contributor: string | null;
  indexed_at: string;
}

export interface TaxonomyTreeNode {
  id: string;
  name: string;
  description: string;
  full_path: string;
  document_count: number;
  documents: DocumentSummary[];
  children: TaxonomyTreeNode[];
}

export interface TaxonomyResponse {
  categories: TaxonomyTreeNode[];
  total_documents: number;
}

/** A document and, optionally, a range of its lines (the MCP tool get_document). */
export interface DocumentRequest {
  path: string;
  start_line?: number;
  end_line?: number;
}

export interface DocumentResponse extends DocumentSummary {
  content: string;
  taxonomy: TaxonomyPath;
  file_hash: string;
}

/** DELETE /api/library/documents?path= */
export interface DocumentDeleted {
  deleted: string;
  chunks: number;
}

// ---- Index jobs (POST /api/library/index with "async": true, /api/library/jobs) ----

export const JOB_STATES = ['pending', 'running', 'done', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
/** `all`: the whole library; `path`: one file or folder inside it. */
export type IndexJobKind = 'all' | 'path';

/** A job without its per-file results: what the list shows. */
export interface IndexJobOverview {
  id: string;
  kind: IndexJobKind;
  /** The file or folder of a `path` job; null for `all`. */
  path: string | null;
  state: JobState;
  /** True once a cancel was asked for; a running job stops after its current file. */
  cancel_requested: boolean;
  progress: IndexProgress;
  /** Set when the job ends (for a cancelled job: what was done before it stopped). */
  summary: IndexSummary | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Developer name, "cli" or "startup"; null when the server has no auth. */
  requested_by: string | null;
}

export interface IndexJob extends IndexJobOverview {
  /** One entry per file handled so far, in order. */
  results: IndexFileResult[];
}

export interface IndexJobAccepted {
  job_id: string;
  state: JobState;
  /** True when the same index was already queued or running: its id comes back, no second job starts. */
  existing: boolean;
}

export interface IndexJobList {
  jobs: IndexJobOverview[];
}
