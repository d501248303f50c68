/**
 * The zod schemas of the payloads in `api-types.ts`: the server validates
 * requests with them at the edge (`zValidator` in `server/routes/`), the
 * extension's client checks responses with them (`safeParse`). Each schema is
 * held to its type (annotated, or `satisfies` where `.shape` and `.extend` must
 * stay usable), so a field the type requires that the schema lacks, or a field
 * the two type differently, fails to compile.
 */
import { z } from 'zod';
import type {
  AnswerSource,
  AskRequest,
  AskResponse,
  Citation,
  Conversation,
  ConversationDeleted,
  ConversationList,
  ConversationSummary,
  ConversationTurn,
  DependencyHealth,
  DocumentRequest,
  DocumentResponse,
  DocumentSummary,
  ExcludeRange,
  HealthResponse,
  IndexFileResult,
  IndexingStatus,
  IndexRequest,
  IndexResponse,
  IndexSummary,
  PublicHealthResponse,
  SearchFilters,
  SearchRequest,
  SearchResponse,
  SearchResult,
  SimilarRequest,
  StatsResponse,
  TaxonomyPath,
  TaxonomyResponse,
  TaxonomyTreeNode,
  UploadRequest,
  Usage,
} from './api-types.js';
import { CONTENT_TYPES, INDEX_STATUSES, SEARCH_MODES } from './api-types.js';
import { unsafePathCharacters } from './file-rules.js';
import { MAX_PATH_CHARS, MAX_QUERY_CHARS, MAX_RESULTS, MAX_SIMILAR_TEXT_CHARS, MAX_UPLOAD_CONTENT_CHARS } from './limits.js';

/** A request schema (shared/mcp.ts extends them): what the client sends is what the server reads. */
type RequestSchema<T> = z.ZodType<T, z.ZodTypeDef, T>;
/** A response schema: the client reads exactly the type. */
type ResponseSchema<T> = z.ZodType<T, z.ZodTypeDef, unknown>;

export const ContentTypeSchema = z.enum(CONTENT_TYPES);
export const SearchModeSchema = z.enum(SEARCH_MODES);

// ---- Requests ----

const relativePath = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_PATH_CHARS, `must be at most ${MAX_PATH_CHARS} characters`)
  .refine((p) => !p.includes('\0'), 'must not contain NUL bytes');

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
  .strict() satisfies RequestSchema<SearchFilters>;

const nResults = z.number().int().min(1, 'must be at least 1').max(MAX_RESULTS, `must be at most ${MAX_RESULTS}`);

export const SearchRequestSchema = z
  .object({
    query: z.string().trim().min(1, 'must not be empty').max(MAX_QUERY_CHARS),
    n_results: nResults.optional(),
    filters: SearchFiltersSchema.optional(),
    mode: SearchModeSchema.optional(),
  })
  .strict() satisfies RequestSchema<SearchRequest>;

/** `refine` arguments shared by the schemas that take "text" or "id" (here and shared/mcp.ts). */
export const EXACTLY_TEXT_OR_ID = {
  check: (r: { text?: string; id?: string }) => (r.text === undefined) !== (r.id === undefined),
  issue: { message: 'give exactly one of "text" or "id"', path: ['text'] },
};

const lineNumber = z.number().int().min(1, 'must be a 1-based line number').max(10_000_000);

export const ExcludeRangeSchema = z
  .object({ file_path: filterPath, start_line: lineNumber, end_line: lineNumber })
  .strict()
  .refine((r) => r.end_line >= r.start_line, { message: 'must not be before start_line', path: ['end_line'] }) satisfies RequestSchema<ExcludeRange>;

export const SimilarRequestSchema = z
  .object({
    text: z.string().trim().min(1, 'must not be empty').max(MAX_SIMILAR_TEXT_CHARS).optional(),
    id: z.string().uuid('must be a chunk id (UUID)').optional(),
    n_results: nResults.optional(),
    exclude_file_path: filterPath.optional(),
    exclude_range: ExcludeRangeSchema.optional(),
  })
  .strict()
  .refine(EXACTLY_TEXT_OR_ID.check, EXACTLY_TEXT_OR_ID.issue) satisfies RequestSchema<SimilarRequest>;

export const UploadRequestSchema = z
  .object({
    file_path: relativePath,
    content: z.string().max(MAX_UPLOAD_CONTENT_CHARS),
    workspace: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash or underscore')
      // "." and ".." pass the pattern but would put the file beside or above the uploads folder.
      .refine((w) => w !== '.' && w !== '..', 'must be a folder name, not "." or ".."')
      .optional(),
  })
  .strict() satisfies RequestSchema<UploadRequest>;

export const IndexRequestSchema = z.union([
  z.object({ all: z.literal(true), async: z.boolean().optional() }).strict(),
  z.object({ path: relativePath, async: z.boolean().optional() }).strict(),
  UploadRequestSchema,
]) satisfies RequestSchema<IndexRequest>;

export const AskRequestSchema = z
  .object({
    question: z.string().trim().min(1, 'must not be empty').max(MAX_QUERY_CHARS),
    conversation_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id returned by an earlier answer').optional(),
    filters: SearchFiltersSchema.optional(),
    n_results: nResults.optional(),
  })
  .strict() satisfies RequestSchema<AskRequest>;

/** `refine` arguments for a line range: start_line ≤ end_line when both are given. */
export const ORDERED_LINE_RANGE = {
  check: (r: { start_line?: number; end_line?: number }) => r.start_line === undefined || r.end_line === undefined || r.start_line <= r.end_line,
  issue: { message: 'must not be after end_line', path: ['start_line'] },
};

export const DocumentRequestSchema = z
  .object({
    path: filterPath,
    start_line: z.number().int().min(1, 'must be at least 1').optional(),
    end_line: z.number().int().min(1, 'must be at least 1').optional(),
  })
  .strict()
  .refine(ORDERED_LINE_RANGE.check, ORDERED_LINE_RANGE.issue) satisfies RequestSchema<DocumentRequest>;

const DOCUMENT_PATH_REQUIRED = 'is required, e.g. /api/library/documents?path=guides/searching.md';

/** The query of GET and DELETE /api/library/documents (an absent path reads as empty, so both get the example). */
export const DocumentPathQuerySchema = z.object({
  path: z.preprocess((raw) => raw ?? '', z.string().refine((p) => p.trim() !== '', DOCUMENT_PATH_REQUIRED)),
});

// ---- Responses ----
// Unknown fields are dropped rather than refused: a newer server may add fields.

const TaxonomyPathSchema: ResponseSchema<TaxonomyPath> = z.object({ full_path: z.string(), level1: z.string(), level2: z.string().nullable() });

const SearchResultSchema: ResponseSchema<SearchResult> = z.object({
  id: z.string(),
  score: z.number(),
  content: z.string(),
  file_path: z.string(),
  section: z.string(),
  start_line: z.number(),
  end_line: z.number(),
  taxonomy: TaxonomyPathSchema,
  content_type: ContentTypeSchema,
  scores: z.object({ dense: z.number().nullable(), keyword: z.number().nullable(), fused: z.number() }),
});

export const SearchResponseSchema: ResponseSchema<SearchResponse> = z.object({
  query: z.string(),
  mode: SearchModeSchema,
  results: z.array(SearchResultSchema),
  took_ms: z.number(),
});

export const IndexFileResultSchema: ResponseSchema<IndexFileResult> = z.object({
  file_path: z.string(),
  status: z.enum(INDEX_STATUSES),
  chunks: z.number(),
  reason: z.string().optional(),
  taxonomy: TaxonomyPathSchema.optional(),
});

export const IndexSummarySchema: ResponseSchema<IndexSummary> = z.object({
  indexed: z.number(),
  unchanged: z.number(),
  skipped: z.number(),
  failed: z.number(),
  deleted: z.number(),
  chunks: z.number(),
  seconds: z.number(),
});

export const IndexResponseSchema: ResponseSchema<IndexResponse> = z.object({ files: z.array(IndexFileResultSchema), summary: IndexSummarySchema });

const countsSchema = z.record(z.string(), z.number());

export const StatsResponseSchema: ResponseSchema<StatsResponse> = z.object({
  points_count: z.number(),
  documents: z.number(),
  by_content_type: countsSchema,
  by_taxonomy: countsSchema,
  by_contributor: countsSchema,
  embedder: z.object({ id: z.string(), dimension: z.number() }),
  store: z.object({ kind: z.string(), location: z.string() }),
  last_indexed_at: z.string().nullable(),
});

const HealthStatusSchema = z.enum(['ok', 'degraded']);

export const PublicHealthResponseSchema: ResponseSchema<PublicHealthResponse> = z.object({ status: HealthStatusSchema });

const IndexingStatusSchema: ResponseSchema<IndexingStatus> = z.object({
  state: z.enum(['idle', 'running', 'done', 'cancelled', 'failed']),
  files_total: z.number(),
  files_done: z.number(),
  current: z.string().nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  summary: IndexSummarySchema.nullable(),
  error: z.string().nullable(),
});

const DependencyHealthSchema: ResponseSchema<DependencyHealth> = z.object({
  status: z.enum(['up', 'degraded', 'down']),
  latency_ms: z.number().nullable(),
  detail: z.string(),
  circuit: z.enum(['closed', 'open', 'half_open']).optional(),
});

export const HealthResponseSchema: ResponseSchema<HealthResponse> = z.object({
  status: HealthStatusSchema,
  version: z.string(),
  store: z.object({ kind: z.string(), points: z.number() }),
  embedder: z.object({ id: z.string() }),
  indexing: IndexingStatusSchema,
  dependencies: z
    .object({ store: DependencyHealthSchema, embedder: DependencyHealthSchema, llm: DependencyHealthSchema, disk: DependencyHealthSchema.optional() })
    .optional(),
  taxonomy: z.object({ ready: z.boolean(), detail: z.string() }).optional(),
});

const DocumentSummarySchema = z.object({
  file_path: z.string(),
  title: z.string(),
  chunks: z.number(),
  content_type: ContentTypeSchema,
  confidence: z.number(),
  contributor: z.string().nullable(),
  indexed_at: z.string(),
}) satisfies ResponseSchema<DocumentSummary>;

const TaxonomyTreeNodeSchema: ResponseSchema<TaxonomyTreeNode> = z.lazy(() =>
  z.object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    full_path: z.string(),
    document_count: z.number(),
    documents: z.array(DocumentSummarySchema),
    children: z.array(TaxonomyTreeNodeSchema),
  }),
);

export const TaxonomyResponseSchema: ResponseSchema<TaxonomyResponse> = z.object({ categories: z.array(TaxonomyTreeNodeSchema), total_documents: z.number() });

export const DocumentResponseSchema: ResponseSchema<DocumentResponse> = DocumentSummarySchema.extend({
  content: z.string(),
  taxonomy: TaxonomyPathSchema,
  file_hash: z.string(),
});

const AnswerModeSchema = z.enum(['claude', 'extractive']);

const AnswerSourceSchema: ResponseSchema<AnswerSource> = z.object({
  index: z.number(),
  id: z.string(),
  file_path: z.string(),
  section: z.string(),
  start_line: z.number(),
  end_line: z.number(),
  score: z.number(),
  snippet: z.string(),
  taxonomy: TaxonomyPathSchema,
});

const CitationSchema: ResponseSchema<Citation> = z.object({
  source_index: z.number(),
  file_path: z.string(),
  cited_text: z.string(),
  start_line: z.number(),
  end_line: z.number(),
});

const UsageSchema: ResponseSchema<Usage> = z.object({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_read_input_tokens: z.number(),
  cache_creation_input_tokens: z.number(),
});

export const AskResponseSchema: ResponseSchema<AskResponse> = z.object({
  answer: z.string(),
  sources: z.array(AnswerSourceSchema),
  citations: z.array(CitationSchema),
  confidence: z.number(),
  conversation_id: z.string(),
  mode: AnswerModeSchema,
  model: z.string().nullable(),
  incomplete: z.boolean(),
  usage: UsageSchema.nullable(),
  search_query: z.string().optional(),
});

/** The `data` of each event of an answer stream (`AskStreamEvent`), by event name. */
export const AskStreamDataSchemas = {
  sources: z.object({ sources: z.array(AnswerSourceSchema), conversation_id: z.string(), mode: AnswerModeSchema }),
  delta: z.object({ text: z.string() }),
  done: AskResponseSchema,
  // Any code: an older or newer server may send one this version does not list.
  error: z.object({ code: z.string(), message: z.string(), partial: AskResponseSchema.nullable().catch(null) }),
} as const;

const ConversationSummarySchema = z.object({
  id: z.string(),
  title: z.string(),
  turns: z.number(),
  created_at: z.string(),
  updated_at: z.string(),
}) satisfies ResponseSchema<ConversationSummary>;

export const ConversationListSchema: ResponseSchema<ConversationList> = z.object({ conversations: z.array(ConversationSummarySchema) });

const ConversationTurnSchema: ResponseSchema<ConversationTurn> = z.object({
  question: z.string(),
  answer: z.string(),
  sources: z.array(AnswerSourceSchema),
  citations: z.array(CitationSchema),
  confidence: z.number(),
  mode: AnswerModeSchema,
  incomplete: z.boolean(),
  created_at: z.string(),
  search_query: z.string().optional(),
});

export const ConversationSchema: ResponseSchema<Conversation> = ConversationSummarySchema.extend({ history: z.array(ConversationTurnSchema) });

export const ConversationDeletedSchema: ResponseSchema<ConversationDeleted> = z.object({ deleted: z.string() });

/**
 * The error body `{"error": {"code", "message"}}`. Any code: an older or newer
 * server may send one this version does not list (`isErrorCode` tells).
 */
export const ErrorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
