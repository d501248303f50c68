import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { requestId, type RequestIdVariables } from 'hono/request-id';
import { matchedRoutes } from 'hono/route';
import type { AppEnv, Developer } from '../http/app-env.js';
import type { Logger } from '../logger.js';
import type { Metrics } from './metrics.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * An incoming id is echoed only when it is a plain token: it ends up in logs
 * and a response header, so no spaces, quotes or control characters, and short.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Label for requests no route answered (404s), so junk paths cannot add series. */
export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);


export function requestIdFrom(header: string | undefined): string {
  const candidate = header?.trim();
  return candidate && SANE_REQUEST_ID.test(candidate) ? candidate : randomUUID();
}

/**
 * hono/request-id sets `requestId` for the request, from our rule alone: with
 * no header name it neither reads nor writes `x-request-id` itself (its check
 * would refuse the `.` and `:` of tracing ids). `observeRequests` echoes the id
 * on the final response, which also covers a handler that returns its own
 * Response (the MCP transport), where headers set before it are dropped.
 */
export function assignRequestId(): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  return requestId({ headerName: '', generator: (c) => requestIdFrom(c.req.header(REQUEST_ID_HEADER)) });
}

/**
 * The pattern of the route that answered (`/api/conversations/:id`), never the
 * raw path: metrics labels must stay a bounded set. A request refused by a
 * middleware (401, 413, 429) gets that middleware's pattern (`/api/*`).
 */
export function routePattern(c: Context): string {
  const current = matchedRoutes(c)[c.req.routeIndex];
  if (!current) return UNMATCHED_ROUTE;
  // Only `app.use` middleware matched: nothing handled it.
  if (current.method === 'ALL' && c.res.status === 404) return UNMATCHED_ROUTE;
  return current.path;
}

export interface RequestObserverDeps {
  logger: Logger;
  metrics: Metrics;
  /** Route patterns logged at debug when they succeed (probes and scrapes; the route table in app.ts names them). */
  quietRoutes: readonly string[];
}

/**
 * Runs after `assignRequestId` and hono's `contextStorage` (app.ts), so the
 * request id is set and every log line made while serving carries it
 * (logger.ts); when the request is answered, echoes the id in `x-request-id`
 * and writes one structured log line and the HTTP metrics. Headers are never
 * logged: they carry server tokens and Anthropic keys.
 */
export function observeRequests({ logger, metrics, quietRoutes }: RequestObserverDeps): MiddlewareHandler<AppEnv> {
  const quiet = new Set(quietRoutes);
  return async (c, next) => {
    const started = performance.now();
    let failed = false;
    try {
      await next();
    } catch (error) {
      // Hono routes errors to onError; only something thrown past it lands here.
      failed = true;
      throw error;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const status = failed ? 500 : c.res.status;
      const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : 'OTHER';
      const route = routePattern(c);
      metrics.httpRequests.inc({ method, route, status: String(status) });
      metrics.httpDuration.observe({ method, route }, seconds);
      const requestId = c.get('requestId');
      if (!failed) c.header(REQUEST_ID_HEADER, requestId);
      // Set by the auth middleware; unset when it refused the request or the route is outside /api.
      const developer: Developer | undefined = c.get('developer');
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : quiet.has(route) ? 'debug' : 'info';
      logger[level](
        {
          request_id: requestId,
          developer: developer?.name ?? null,
          method,
          route,
          path: c.req.path,
          status,
          duration_ms: Math.round(seconds * 10_000) / 10,
        },
        'request',
      );
    }
  };
}
