import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { contextStorage } from 'hono/context-storage';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { authenticate } from './auth/middleware.js';
import { loopbackGuard } from './auth/loopback-guard.js';
import { adminOnly } from './auth/roles.js';
import { DomainError } from './errors/domain-error.js';
import { RateLimiter, rateLimit, type Budget } from './http/rate-limit.js';
import { MCP_ENDPOINT } from '../shared/mcp.js';
import { mcpRoutes } from './mcp/mcp-route.js';
import { errorResponse, toHttpError } from './http/errors.js';
import type { AppEnv } from './http/app-env.js';
import type { Logger } from './logger.js';
import { assignRequestId, observeRequests } from './observability/http.js';
import { answerRoutes, conversationRoutes } from './routes/answers.js';
import { adminRoutes } from './routes/admin.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { libraryRoutes } from './routes/library.js';
import { metricsRoutes } from './routes/metrics.js';
import { queryRoutes } from './routes/query.js';
import { taxonomyRoutes } from './routes/taxonomy.js';
import { usageRoutes } from './routes/usage.js';
import type { Services } from './services.js';

/** Scrapes and probes every few seconds would drown the log at info. */
const QUIET_ROUTES = ['/health', '/metrics'];

/** Questions and library writes cost embedding (and Claude) calls; every other route takes from the `request` budget. */
const COSTLY_ROUTES: Readonly<Record<string, Budget>> = {
  'POST /api/query/ask': 'ask',
  'POST /api/library/index': 'index',
  'DELETE /api/library/documents': 'index',
};

export function budgetFor(method: string, path: string): Budget {
  return COSTLY_ROUTES[`${method} ${path.replace(/\/+$/, '')}`] ?? 'request';
}

/**
 * The HTTP surface and its route table: routes validate and delegate;
 * everything else lives in services. The routes are chained, so the returned
 * app's type carries every route's input and output (`AppType`, for
 * `hono/client` in extension/api-client.ts).
 */
export function createApp(services: Services, logger: Logger) {
  const app = new Hono<AppEnv>();
  const { api } = services.config.settings;
  // First, so every request (refused ones too) gets a request id, a log line and metrics;
  // contextStorage lets the logger and usage metering read the request's Context anywhere below.
  app.use('*', assignRequestId(), contextStorage(), observeRequests({ logger, metrics: services.metrics, quietRoutes: QUIET_ROUTES }));
  app.use('*', secureHeaders());
  // One limiter for both surfaces: a developer's budget is the same over HTTP and MCP.
  const limiter = new RateLimiter(services.config.settings.limits);
  // The MCP endpoint is the API by another protocol: the same guards, in the same order.
  for (const surface of ['/api/*', MCP_ENDPOINT]) {
    app.use(surface, cors({ origin: api.cors_origins }));
    // Before auth: without tokens, auth trusts loopback peers, and a browser on this machine is one (issue 12).
    app.use(surface, loopbackGuard(services.tokens, api.cors_origins));
    // After CORS (preflights carry no token), before everything that costs work: who first, then how often.
    app.use(surface, authenticate(services.tokens));
    app.use(surface, rateLimit(limiter, budgetFor));
    app.use(
      surface,
      bodyLimit({
        maxSize: api.max_body_bytes,
        onError: (c) =>
          errorResponse(c, 'payload_too_large', `the body is larger than ${api.max_body_bytes} bytes (api.max_body_bytes); send smaller files or raise the limit`),
      }),
    );
  }
  app.use('/api/admin/*', adminOnly('the admin API (/api/admin)'));
  const routes = app
    .route('/', healthRoutes(services))
    // Outside /api, so outside auth like /health: firewall it (see routes/metrics.ts).
    .route('/', metricsRoutes(services))
    .route('/api/query', queryRoutes(services))
    .route('/api/query', answerRoutes(services, logger))
    .route('/api/conversations', conversationRoutes(services))
    .route('/api/library', libraryRoutes(services))
    .route('/api/library', taxonomyRoutes(services))
    .route('/api/library', jobRoutes(services))
    .route('/api/admin', adminRoutes(services))
    .route('/api/admin', usageRoutes(services, logger));
  app.route('/', mcpRoutes(services, limiter, logger));
  app.notFound((c) => errorResponse(c, 'no_route', `no route ${c.req.method} ${c.req.path}; see README "HTTP API"`));
  app.onError((err, c) => {
    const httpError = toHttpError(err, services.disk);
    const where = { route: c.req.path, request_id: c.get('requestId') };
    // A DomainError's message is written for people (an embedder outage, a paused budget): the line says why without a stack.
    if (httpError.status >= 500 && err instanceof DomainError) logger.warn({ ...where, code: httpError.code, message: httpError.message }, 'request failed');
    else if (httpError.status >= 500) logger.error({ err, ...where }, 'request failed');
    return errorResponse(c, httpError.code, httpError.message);
  });
  return routes;
}

/** Every route's method, path, input and output: the extension's client is typed by it (a type-only import). */
export type AppType = ReturnType<typeof createApp>;
