import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { ZodType, ZodTypeDef } from 'zod';
import type { AskResponse } from '../../shared/api-types.js';
import {
  AskLibraryInputSchema,
  FindSimilarInputSchema,
  GetDocumentInputSchema,
  IndexTextInputSchema,
  ListTaxonomyInputSchema,
  SearchLibraryInputSchema,
} from '../../shared/mcp.js';
import { AnswerError } from '../answers/ask-service.js';
import { uploadAs } from '../auth/upload-rules.js';
import { DomainError } from '../errors/domain-error.js';
import type { Developer } from '../http/app-env.js';
import { parseWith } from '../http/body.js';
import { checkQueryLength, takeOrThrow, type RateLimiter } from '../http/rate-limit.js';
import type { Services } from '../services.js';
import { formatAnswer, formatDocument, formatIndexed, formatSearch, formatTaxonomy } from './format.js';

/** Who calls a tool: set by the same auth middleware as /api/* (server/auth/middleware.ts). */
export interface ToolCaller {
  developer: Developer;
  /** The developer's own Anthropic key (x-anthropic-api-key on the MCP request); never stored. */
  apiKey: string | undefined;
  signal: AbortSignal | undefined;
}

export interface ToolOutput {
  text: string;
  structured: Record<string, unknown>;
}

export interface LibraryTool {
  name: string;
  title: string;
  description: string;
  /** From shared/mcp.ts: listed as the tool's JSON schema and checked like an HTTP body (same 400 messages). */
  schema: ZodType<unknown, ZodTypeDef, unknown>;
  annotations: ToolAnnotations;
  call(args: unknown, caller: ToolCaller): Promise<ToolOutput>;
}

interface ToolDefinition<T> extends Omit<LibraryTool, 'schema' | 'call'> {
  schema: ZodType<T, ZodTypeDef, unknown>;
  run(input: T, caller: ToolCaller): Promise<ToolOutput>;
}

function defineTool<T>(def: ToolDefinition<T>): LibraryTool {
  const { run, schema, ...rest } = def;
  return { ...rest, schema, call: (args, caller) => run(parseWith(schema, args ?? {}), caller) };
}

const READ_ONLY: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };

/** Lines `first`..`last` (1-based, inclusive) and the count, ignoring the newline that ends the file. */
function lineRange(content: string, start: number | undefined, end: number | undefined): { text: string; first: number; last: number; total: number } {
  const lines = content.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const total = lines.length;
  const first = start ?? 1;
  if (total > 0 && first > total) {
    throw new DomainError('invalid_request', `start_line: is ${first}, after the document's last line (${total}); ask for lines 1-${total}`);
  }
  const last = Math.min(end ?? total, total);
  const whole = first === 1 && last === total;
  return { text: whole ? content : lines.slice(first - 1, last).join('\n'), first: total === 0 ? 0 : first, last, total };
}

/**
 * The library's MCP tools. Each calls the same service the HTTP route does
 * (search, catalog, indexer, answers), after the same checks, so an agent gets
 * what a curl user would. Per-request budgets beyond the request itself
 * (questions, library writes) are taken here from the HTTP limiter.
 */
export function libraryTools(services: Services, limiter: RateLimiter): LibraryTool[] {
  const { limits, library } = services.config.settings;
  return [
    defineTool({
      name: 'search_library',
      title: 'Search the team library',
      description:
        "Search the team's shared AI Library (documentation, code and notes indexed on the team server) for passages about a topic. " +
        'Returns passages best first, each with file_path:start-end lines, section, taxonomy category, score and id; cite them as path:lines. ' +
        "Use it before answering questions about the team's systems, conventions or code. Read around a passage with get_document (start_line/end_line); find related passages with find_similar {id}.",
      schema: SearchLibraryInputSchema,
      annotations: READ_ONLY,
      run: async (req) => {
        checkQueryLength(req.query, 'query', limits);
        const res = await services.search.search(req);
        return { text: formatSearch(res, `Search "${res.query}" (${res.mode})`), structured: { ...res } };
      },
    }),
    defineTool({
      name: 'find_similar',
      title: 'Find similar passages',
      description:
        'Find library passages similar to a piece of text (code, an error message, a paragraph) or to a passage id from an earlier result. ' +
        'Use it to find where else something is done or documented. Give exactly one of "text" or "id". Results carry file_path:start-end lines and section.',
      schema: FindSimilarInputSchema,
      annotations: READ_ONLY,
      run: async (req) => {
        const res = await services.search.similar(req);
        return { text: formatSearch(res, 'Similar passages'), structured: { ...res } };
      },
    }),
    defineTool({
      name: 'get_document',
      title: 'Read a library document',
      description:
        'Read one library document, or a range of its lines, by its library path (the "file_path" of a search result, e.g. guides/deploy.md). ' +
        "Give start_line/end_line around a passage's lines to read its context without the whole file.",
      schema: GetDocumentInputSchema,
      annotations: READ_ONLY,
      run: async (req) => {
        const doc = await services.catalog.document(req.path);
        const { text, first, last, total } = lineRange(doc.content, req.start_line, req.end_line);
        const shown = { ...doc, content: text };
        return { text: formatDocument(shown, first, last, total), structured: { ...shown, start_line: first, end_line: last, total_lines: total } };
      },
    }),
    defineTool({
      name: 'list_taxonomy',
      title: 'List library categories',
      description:
        "List the library's categories and the documents filed in each (path and title). " +
        'Use it to see what the library covers, to pick a "taxonomy" filter for search_library, or to find a document to read with get_document.',
      schema: ListTaxonomyInputSchema,
      annotations: READ_ONLY,
      run: async () => {
        const tree = await services.catalog.tree();
        return { text: formatTaxonomy(tree), structured: { ...tree } };
      },
    }),
    defineTool({
      name: 'index_text',
      title: 'Add a document to the library',
      description:
        'Add or update a document in the shared library so the whole team can search it at once. It is stored as ' +
        `library/${library.uploads_dir}/<workspace>/<file_path> with you as its contributor. You may replace only documents you contributed (admins: any); ` +
        'another developer\'s path is refused, so pick another path or workspace. Markdown, text and source files only; files holding secrets are refused.',
      schema: IndexTextInputSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      run: async (req, { developer }) => {
        takeOrThrow(limiter, developer.name, 'index');
        services.indexer.checkBudget();
        const res = await uploadAs({ indexer: services.indexer, maxFileBytes: library.max_file_bytes }, developer, req);
        const result = res.files[0];
        if (!result || (result.status !== 'indexed' && result.status !== 'unchanged')) {
          throw new DomainError('not_indexed', `file_path: "${result?.file_path ?? req.file_path}" was not indexed: ${result?.reason ?? result?.status ?? 'no result'}`);
        }
        return { text: formatIndexed(result), structured: { ...result } };
      },
    }),
    defineTool({
      name: 'ask_library',
      title: 'Ask the library',
      description:
        'Ask the library a question and get an answer citing the passages it used as [n], with their file paths and lines. ' +
        "Without an Anthropic key on the server the answer is extractive (the most relevant sentences, quoted). An agent with its own model may prefer search_library and write the answer itself. " +
        'Pass the returned conversation_id to ask a follow-up.',
      schema: AskLibraryInputSchema,
      annotations: READ_ONLY,
      run: async (req, { developer, apiKey, signal }) => {
        takeOrThrow(limiter, developer.name, 'ask');
        checkQueryLength(req.question, 'question', limits);
        let answer: AskResponse | null = null;
        for await (const event of services.answers.stream(req, { developer: developer.name, apiKey, signal })) {
          if (event.event === 'done') answer = event.data;
        }
        if (!answer) throw new AnswerError('internal', 'the answer ended without a result; the server log has the details');
        return { text: formatAnswer(answer), structured: { ...answer } };
      },
    }),
  ];
}
