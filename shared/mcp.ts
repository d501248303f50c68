/**
 * The MCP tools' inputs (POST /mcp, docs: README "MCP"). Each is the HTTP API's
 * own schema with a description per field, so an agent and a curl user are held
 * to the same rules and get the same 400 messages.
 */
import { z } from 'zod';
import {
  AskRequestSchema,
  DocumentRequestSchema,
  EXACTLY_TEXT_OR_ID,
  ORDERED_LINE_RANGE,
  SearchRequestSchema,
  SimilarRequestSchema,
  UploadRequestSchema,
} from './api-schemas.js';

export const MCP_ENDPOINT = '/mcp';
/** The server's name in MCP clients' lists (VS Code, Claude Code `claude mcp add … ai-library`). */
export const MCP_SERVER_NAME = 'ai-library';
/** `library://<path>`: each indexed document as an MCP resource. */
export const LIBRARY_RESOURCE_SCHEME = 'library';

const filtersDescription =
  'Optional filters: {"taxonomy": "<category path, e.g. engineering/backend>", "content_type": "markdown" | "code" | "text" (or a list), "file_path": "<file or folder prefix, e.g. guides/>"}';

export const SearchLibraryInputSchema = SearchRequestSchema.extend({
  query: SearchRequestSchema.shape.query.describe('What to look for, in natural language or keywords (1-4000 characters).'),
  n_results: SearchRequestSchema.shape.n_results.describe('How many passages to return, 1-50 (default 10).'),
  filters: SearchRequestSchema.shape.filters.describe(filtersDescription),
  mode: SearchRequestSchema.shape.mode.describe('"hybrid" (default: meaning and exact words), "dense" (meaning only) or "keyword" (exact words, e.g. identifiers).'),
});

const similarShape = SimilarRequestSchema.innerType().shape;
export const FindSimilarInputSchema = SimilarRequestSchema.innerType()
  .extend({
    text: similarShape.text.describe('A passage (e.g. code or a paragraph) to find similar library passages for. Give this or "id".'),
    id: similarShape.id.describe('The id of a passage returned by search_library or find_similar. Give this or "text".'),
    n_results: similarShape.n_results.describe('How many passages to return, 1-50 (default 10).'),
    exclude_file_path: similarShape.exclude_file_path.describe('Leave out passages from this file (e.g. the file the text came from).'),
  })
  .refine(EXACTLY_TEXT_OR_ID.check, EXACTLY_TEXT_OR_ID.issue);

const documentShape = DocumentRequestSchema.innerType().shape;
export const GetDocumentInputSchema = DocumentRequestSchema.innerType()
  .extend({
    path: documentShape.path.describe('The document\'s library path, as search results give it in "file_path" (e.g. guides/deploy.md).'),
    start_line: documentShape.start_line.describe('First line to return (1-based); omit for the start of the file.'),
    end_line: documentShape.end_line.describe('Last line to return (inclusive); omit for the end of the file.'),
  })
  .refine(ORDERED_LINE_RANGE.check, ORDERED_LINE_RANGE.issue);

export const ListTaxonomyInputSchema = z.object({}).strict();

export const IndexTextInputSchema = UploadRequestSchema.extend({
  file_path: UploadRequestSchema.shape.file_path.describe(
    'Path of the document inside your workspace folder, with an extension that says its type (e.g. notes/deploy-checklist.md, src/retry.ts).',
  ),
  content: UploadRequestSchema.shape.content.describe('The full text of the document (UTF-8). Replaces any earlier version you uploaded at the same path.'),
  workspace: UploadRequestSchema.shape.workspace.describe(
    'Folder under library/contributed/ to store it in (1-64 letters, digits, ".", "-", "_"); default "default". Usually the project name.',
  ),
});

export const AskLibraryInputSchema = AskRequestSchema.extend({
  question: AskRequestSchema.shape.question.describe('The question, in natural language (1-4000 characters).'),
  conversation_id: AskRequestSchema.shape.conversation_id.describe('Continue an earlier answer\'s conversation: its "conversation_id".'),
  filters: AskRequestSchema.shape.filters.describe(filtersDescription),
  n_results: AskRequestSchema.shape.n_results.describe('How many passages to retrieve as evidence, 1-50 (default 10).'),
});
