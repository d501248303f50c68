import { Hono } from 'hono';
import type { AppEnv } from '../http/app-env.js';
import type { Services } from '../services.js';

/**
 * GET /metrics in the Prometheus text format. Like /health it sits outside
 * /api and so outside auth, because scrapers rarely carry bearer tokens: it
 * names no documents or developers, but it does show traffic, costs and
 * provider state, so firewall it to the Prometheus host (or bind the server to
 * loopback behind a proxy that does not forward /metrics).
 */
export function metricsRoutes(services: Services) {
  return new Hono<AppEnv>().get('/metrics', async (c) => {
    const body = await services.metrics.render();
    return c.body(body, 200, { 'content-type': services.metrics.contentType, 'cache-control': 'no-store' });
  });
}
