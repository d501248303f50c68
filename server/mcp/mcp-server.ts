import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { toJsonSchemaCompat } from '@modelcontextprotocol/sdk/server/zod-json-schema-compat.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { ContentType } from '../../shared/api-types.js';
import { LIBRARY_RESOURCE_SCHEME, MCP_SERVER_NAME } from '../../shared/mcp.js';
import { toHttpError } from '../http/errors.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import type { LibraryTool, ToolCaller } from './tools.js';

const MIME_TYPES: Record<ContentType, string> = { markdown: 'text/markdown', code: 'text/plain', text: 'text/plain' };

const INSTRUCTIONS =
  "The team's shared AI Library: documentation, code and notes indexed on the team server. Search it (search_library) before answering " +
  "questions about the team's systems and conventions, read around results with get_document, and cite passages as path:lines. " +
  'Documents are also resources at library://<path>.';

/** `library://guides/deploy%20notes.md` ⇄ `guides/deploy notes.md`: each segment URI-encoded, slashes kept. */
export function resourceUri(filePath: string): string {
  return `${LIBRARY_RESOURCE_SCHEME}://${filePath.split('/').map(encodeURIComponent).join('/')}`;
}

function pathOfUri(uri: string): string {
  const prefix = `${LIBRARY_RESOURCE_SCHEME}://`;
  if (!uri.startsWith(prefix)) {
    throw new McpError(ErrorCode.InvalidParams, `uri: "${uri.slice(0, 200)}" is not a library document; use a uri from resources/list (library://<path>)`);
  }
  try {
    return uri.slice(prefix.length).split('/').map(decodeURIComponent).join('/');
  } catch {
    throw new McpError(ErrorCode.InvalidParams, `uri: "${uri.slice(0, 200)}" is not valid percent-encoding; use a uri from resources/list`);
  }
}

/**
 * A tool's failure as the HTTP API would word it, marked `isError` so the
 * agent reads it and can act (retry after N s, fix the named field, ask an
 * admin) instead of the session failing.
 */
function toolError(err: unknown, services: Services, logger: Logger, tool: string): CallToolResult {
  const httpError = toHttpError(err, services.disk);
  if (httpError.status >= 500 && httpError.code === 'internal') logger.error({ err, tool }, 'MCP tool failed');
  return {
    isError: true,
    content: [{ type: 'text', text: `${httpError.message} (HTTP ${httpError.status} ${httpError.code})` }],
    structuredContent: { error: { code: httpError.code, message: httpError.message, status: httpError.status } },
  };
}

/**
 * One MCP server per HTTP request (stateless Streamable HTTP): the caller is
 * fixed by the auth middleware before it exists. The low-level `Server` rather
 * than `McpServer`: McpServer validates arguments itself and words the errors
 * its own way, while these tools must answer a bad argument exactly as the
 * HTTP API does ("n_results: must be at most 50").
 */
export function createMcpServer(services: Services, tools: LibraryTool[], caller: ToolCaller, logger: Logger): Server {
  const server = new Server({ name: MCP_SERVER_NAME, title: 'AI Library', version: services.version }, { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS });
  const byName = new Map(tools.map((t) => [t.name, t]));

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: tools.map(
      (t): Tool => ({
        name: t.name,
        title: t.title,
        description: t.description,
        inputSchema: { ...toJsonSchemaCompat(t.schema), type: 'object' },
        annotations: t.annotations,
      }),
    ),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = byName.get(request.params.name);
    if (!tool) {
      throw new McpError(ErrorCode.InvalidParams, `no tool "${request.params.name}"; the tools are ${tools.map((t) => t.name).join(', ')}`);
    }
    try {
      const { text, structured } = await tool.call(request.params.arguments, { ...caller, signal: extra.signal });
      return { content: [{ type: 'text', text }], structuredContent: structured };
    } catch (err) {
      return toolError(err, services, logger, tool.name);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: (await services.store.listFiles()).map((f) => ({
      uri: resourceUri(f.file_path),
      name: f.file_path,
      mimeType: MIME_TYPES[f.content_type],
      description: `${f.content_type} in ${f.taxonomy.full_path}, ${f.chunk_count} chunk(s)${f.contributor ? `, contributed by ${f.contributor}` : ''}`,
    })),
  }));

  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const { uri } = request.params;
    try {
      const doc = await services.catalog.document(pathOfUri(uri));
      return { contents: [{ uri, mimeType: MIME_TYPES[doc.content_type], text: doc.content }] };
    } catch (err) {
      if (err instanceof McpError) throw err;
      const httpError = toHttpError(err, services.disk);
      // Resources have no isError result: a JSON-RPC error carries the API's message instead.
      throw new McpError(httpError.status === 404 || httpError.status === 400 ? ErrorCode.InvalidParams : ErrorCode.InternalError, httpError.message);
    }
  });

  return server;
}
