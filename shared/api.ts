/**
 * Every payload that crosses the wire between the server, the extension and the
 * webview. Schemas are zod so the server validates at the edge and the clients
 * get the same static types.
 */
import { z } from 'zod';

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

/** What a store keeps beside each vector (the seed's payload, section 3.1). */
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

export const SearchFiltersSchema = z
  .object({
    taxonomy: z.string().min(1).max(256).optional(),
    content_type: z.union([ContentTypeSchema, z.array(ContentTypeSchema).min(1)]).optional(),
    file_path: relativePath.optional(),
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

export const SimilarRequestSchema = z
  .object({
    text: z.string().trim().min(1, 'must not be empty').max(20000).optional(),
    id: z.string().uuid('must be a chunk id (UUID)').optional(),
    n_results: nResults.optional(),
    exclude_file_path: relativePath.optional(),
  })
  .strict()
  .refine((r) => (r.text === undefined) !== (r.id === undefined), {
    message: 'give exactly one of "text" or "id"',
    path: ['text'],
  });
export type SimilarRequest = z.infer<typeof SimilarRequestSchema>;

export const IndexRequestSchema = z.union([
  z.object({ all: z.literal(true) }).strict(),
  z.object({ path: relativePath }).strict(),
  z
    .object({
      file_path: relativePath,
      content: z.string().max(10 * 1024 * 1024),
      workspace: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash or underscore')
        .optional(),
    })
    .strict(),
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
  embedder: { id: string; dimension: number };
  store: { kind: string; location: string };
  last_indexed_at: string | null;
}

export interface IndexingProgress {
  state: 'idle' | 'running' | 'done' | 'failed';
  files_total: number;
  files_done: number;
  current: string | null;
  started_at: string | null;
  finished_at: string | null;
  summary: IndexSummary | null;
  error: string | null;
}

export interface HealthResponse {
  status: 'ok' | 'degraded';
  version: string;
  store: { kind: string; points: number };
  embedder: { id: string };
  indexing: IndexingProgress;
}

export interface ErrorBody {
  error: { code: string; message: string };
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

export interface DocumentResponse extends DocumentSummary {
  content: string;
  taxonomy: TaxonomyPath;
  file_hash: string;
}
