import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono } from 'hono';
import { ANTHROPIC_KEY_HEADER } from '../../shared/api-types.js';
import { MCP_ENDPOINT } from '../../shared/mcp.js';
import type { AppEnv } from '../http/app-env.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import { createMcpServer } from './mcp-server.js';
import { libraryTools } from './tools.js';

/**
 * POST /mcp: the Model Context Protocol over Streamable HTTP (README "MCP"),
 * stateless: every request carries its token and gets a fresh server, so
 * nothing ties a client to one process and no session can outlive a revoked
 * token. Auth, Host/Origin rules, rate limits, metrics and usage are the /api
 * middleware, applied to this path in app.ts.
 */
export function mcpRoutes(services: Services, limiter: RateLimiter, logger: Logger): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const tools = libraryTools(services, limiter);

  app.post(MCP_ENDPOINT, async (c) => {
    const server = createMcpServer(services, tools, { developer: c.get('developer'), apiKey: c.req.header(ANTHROPIC_KEY_HEADER), signal: undefined }, logger);
    // JSON responses: every call here finishes with one result, so there is nothing to stream.
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw);
    } finally {
      await server.close();
    }
  });

  // A stateless server has no stream to open (GET) and no session to end (DELETE); the spec's answer is 405.
  app.on(['GET', 'DELETE'], MCP_ENDPOINT, (c) => {
    c.header('Allow', 'POST');
    return c.json({ jsonrpc: '2.0', error: { code: -32000, message: `${c.req.method} ${MCP_ENDPOINT} is not supported: this MCP server is stateless; send JSON-RPC requests with POST` }, id: null }, 405);
  });

  return app;
}
