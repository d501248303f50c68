import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { contextStorage } from 'hono/context-storage';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { authenticate } from './auth/middleware.js';
import { loopbackGuard } from './auth/loopback-guard.js';
import { adminOnly } from './auth/roles.js';
import { DomainError } from './errors/domain-error.js';
import { RateLimiter, rateLimit } from './http/rate-limit.js';
import { MCP_ENDPOINT } from '../shared/mcp.js';
import { mcpRoutes } from './mcp/mcp-route.js';
import { errorResponse, toHttpError } from './http/errors.js';
import type { AppEnv } from './http/app-env.js';
import type { Logger } from './logger.js';
import { assignRequestId, observeRequests } from './observability/http.js';
import { answerRoutes } from './routes/answers.js';
import { adminRoutes } from './routes/admin.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { libraryRoutes } from './routes/library.js';
import { metricsRoutes } from './routes/metrics.js';
import { queryRoutes } from './routes/query.js';
import { taxonomyRoutes } from './routes/taxonomy.js';
import { usageRoutes } from './routes/usage.js';
import type { Services } from './services.js';

/** The HTTP surface: routes validate and delegate; everything else lives in services. */
export function createApp(services: Services, logger: Logger): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { api } = services.config.settings;
  // First, so every request (refused ones too) gets a request id, a log line and metrics;
  // contextStorage lets the logger and usage metering read the request's Context anywhere below.
  app.use('*', assignRequestId(), contextStorage(), observeRequests({ logger, metrics: services.metrics }));
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
    app.use(surface, rateLimit(limiter));
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
  app.route('/', healthRoutes(services));
  // Outside /api, so outside auth like /health: firewall it (see routes/metrics.ts).
  app.route('/', metricsRoutes(services));
  app.route('/api/query', queryRoutes(services));
  app.route('/api/library', libraryRoutes(services));
  app.route('/api/admin', adminRoutes(services));
  app.route('/api/admin', usageRoutes(services, logger));
  app.route('/api/library', taxonomyRoutes(services));
  app.route('/api/library', jobRoutes(services));
  app.route('/', answerRoutes(services, logger));
  app.route('/', mcpRoutes(services, limiter, logger));
  app.notFound((c) => errorResponse(c, 'not_found', `no route ${c.req.method} ${c.req.path}; see README "HTTP API"`));
  app.onError((err, c) => {
    const httpError = toHttpError(err, services.disk);
    if (httpError.status >= 500 && !(err instanceof DomainError)) logger.error({ err, route: c.req.path, request_id: c.get('requestId') }, 'request failed');
    return errorResponse(c, httpError.code, httpError.message);
  });
  return app;
}
