/**
 * Every payload that crosses the wire between the server, the extension and the
 * webview. Schemas are zod so the server validates at the edge and the clients
 * get the same static types.
 */
import { z } from 'zod';
import type { ErrorCode } from './error-codes.js';

export const CONTENT_TYPES = ['markdown', 'code', 'text'] as const;
export const ContentTypeSchema = z.enum(CONTENT_TYPES);
export type ContentType = z.infer<typeof ContentTypeSchema>;

export const SEARCH_MODES = ['hybrid', 'dense', 'keyword'] as const;
export const SearchModeSchema = z.enum(SEARCH_MODES);
export type SearchMode = z.infer<typeof SearchModeSchema>;

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

const MAX_QUERY_CHARS = 4000;
const relativePath = z
  .string()
  .min(1, 'must not be empty')
  .max(1024, 'must be at most 1024 characters')
  .refine((p) => !p.includes('\0'), 'must not contain NUL bytes');

/**
 * Characters no library path may hold: a lone surrogate cannot be written as
 * UTF-8 (the file would land under another name), and control or bidi-override
 * characters make a path read differently from what it is. Null when clean.
 */
export function unsafePathCharacters(p: string): string | null {
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(p)) return 'must be valid Unicode text (it holds a lone surrogate)';
  if (/[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/.test(p)) return 'must not contain control or bidirectional-override characters';
  return null;
}

/**
 * A library path used only to filter stored chunks. It never touches the disk,
 * but it is held to the same rules as every other path field, so a traversal
 * attempt gets a 400 rather than silently matching nothing.
 */
const filterPath = relativePath.superRefine((raw, ctx) => {
  const p = raw.replace(/\\/g, '/');
  const problem =
    unsafePathCharacters(p) ??
    (/%(2e|2f|5c|00)/i.test(p) ? 'must not contain URL-encoded dots or slashes' : null) ??
    (p.startsWith('/') || /^[A-Za-z]:/.test(p) ? 'must be relative to the library (e.g. "docs/" or "docs/api.md"), not absolute' : null) ??
    (p.split('/').includes('..') ? 'must stay inside the library (no "..")' : null);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

export const SearchFiltersSchema = z
  .object({
    taxonomy: z.string().min(1).max(256).optional(),
    content_type: z.union([ContentTypeSchema, z.array(ContentTypeSchema).min(1)]).optional(),
    file_path: filterPath.optional(),
  })
  .strict();
export type SearchFilters = z.infer<typeof SearchFiltersSchema>;

const nResults = z.number().int().min(1, 'must be at least 1').max(50, 'must be at most 50');

export const SearchRequestSchema = z
  .object({
    query: z.string().trim().min(1, 'must not be empty').max(MAX_QUERY_CHARS),
    n_results: nResults.optional(),
    filters: SearchFiltersSchema.optional(),
    mode: SearchModeSchema.optional(),
  })
  .strict();
export type SearchRequest = z.infer<typeof SearchRequestSchema>;

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

/** `refine` arguments shared by the schemas that take "text" or "id" (here and shared/mcp.ts). */
export const EXACTLY_TEXT_OR_ID = {
  check: (r: { text?: string; id?: string }) => (r.text === undefined) !== (r.id === undefined),
  issue: { message: 'give exactly one of "text" or "id"', path: ['text'] },
};

const lineNumber = z.number().int().min(1, 'must be a 1-based line number').max(10_000_000);

export const ExcludeRangeSchema = z
  .object({ file_path: filterPath, start_line: lineNumber, end_line: lineNumber })
  .strict()
  .refine((r) => r.end_line >= r.start_line, { message: 'must not be before start_line', path: ['end_line'] });
export type ExcludeRange = z.infer<typeof ExcludeRangeSchema>;

export const SimilarRequestSchema = z
  .object({
    text: z.string().trim().min(1, 'must not be empty').max(20000).optional(),
    id: z.string().uuid('must be a chunk id (UUID)').optional(),
    n_results: nResults.optional(),
    /** Leaves out the whole file (Find Similar to a document). */
    exclude_file_path: filterPath.optional(),
    /** Leaves out only the chunks overlapping these lines (1-based, inclusive): the selection itself. */
    exclude_range: ExcludeRangeSchema.optional(),
  })
  .strict()
  .refine(EXACTLY_TEXT_OR_ID.check, EXACTLY_TEXT_OR_ID.issue);
export type SimilarRequest = z.infer<typeof SimilarRequestSchema>;

/** An upload from an editor or an agent: stored as library/<uploads_dir>/<workspace>/<file_path>. */
export const UploadRequestSchema = z
  .object({
    file_path: relativePath,
    content: z.string().max(10 * 1024 * 1024),
    workspace: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash or underscore')
      // "." and ".." pass the pattern but would put the file beside or above the uploads folder.
      .refine((w) => w !== '.' && w !== '..', 'must be a folder name, not "." or ".."')
      .optional(),
  })
  .strict();
export type UploadRequest = z.infer<typeof UploadRequestSchema>;

export const IndexRequestSchema = z.union([
  // `async: true` runs a full or folder index as a job: 202 {job_id}, then GET /api/library/jobs/:id.
  z.object({ all: z.literal(true), async: z.boolean().optional() }).strict(),
  z.object({ path: relativePath, async: z.boolean().optional() }).strict(),
  UploadRequestSchema,
]);
export type IndexRequest = z.infer<typeof IndexRequestSchema>;

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

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

// ---- Answers (POST /api/query/ask) ----

export const AskRequestSchema = z
  .object({
    question: z.string().trim().min(1, 'must not be empty').max(MAX_QUERY_CHARS),
    conversation_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id returned by an earlier answer').optional(),
    filters: SearchFiltersSchema.optional(),
    n_results: nResults.optional(),
  })
  .strict();
export type AskRequest = z.infer<typeof AskRequestSchema>;

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

/** `refine` arguments for a line range: start_line ≤ end_line when both are given. */
export const ORDERED_LINE_RANGE = {
  check: (r: { start_line?: number; end_line?: number }) => r.start_line === undefined || r.end_line === undefined || r.start_line <= r.end_line,
  issue: { message: 'must not be after end_line', path: ['start_line'] },
};

/** A document and, optionally, a range of its lines (the MCP tool get_document). */
export const DocumentRequestSchema = z
  .object({
    path: filterPath,
    start_line: z.number().int().min(1, 'must be at least 1').optional(),
    end_line: z.number().int().min(1, 'must be at least 1').optional(),
  })
  .strict()
  .refine(ORDERED_LINE_RANGE.check, ORDERED_LINE_RANGE.issue);
export type DocumentRequest = z.infer<typeof DocumentRequestSchema>;

export interface DocumentResponse extends DocumentSummary {
  content: string;
  taxonomy: TaxonomyPath;
  file_hash: string;
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
