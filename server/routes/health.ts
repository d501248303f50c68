import { Hono } from 'hono';
import type { HealthResponse, PublicHealthResponse } from '../../shared/api-types.js';
import { requestDeveloper } from '../auth/middleware.js';
import type { AppEnv } from '../http/app-env.js';
import { DependencyProbes } from '../reliability/dependency-health.js';
import type { Services } from '../services.js';

export function healthRoutes(services: Services) {
  const { config } = services;
  const probes = new DependencyProbes({
    store: services.store,
    embedder: services.embedder,
    llmBreaker: services.answers.breaker,
    llmConfigured: services.answers.llmConfigured,
    cacheMs: config.settings.reliability.health_cache_ms,
    timeoutMs: config.settings.reliability.health_timeout_ms,
  });
  return new Hono<AppEnv>().get('/health', async (c) => {
    const [probed, disk] = await Promise.all([probes.check(), services.disk.check()]);
    const dependencies = { ...probed, disk };
    const indexing = services.indexing.snapshot;
    // A load balancer should route searches here only if they can be served; Claude being down only changes answers' mode.
    const canSearch = dependencies.store.status === 'up' && dependencies.embedder.status === 'up';
    const allUp = canSearch && dependencies.llm.status === 'up';
    const taxonomy = services.classifier.status;
    // A full disk fails writes only: searches still work, so 200 (degraded), not 503.
    const status = allUp && disk.status === 'up' && taxonomy.ready && indexing.state !== 'failed' ? 'ok' : 'degraded';
    // Open to load balancers and container health checks, but the detail is for those who may use the API.
    if (!requestDeveloper(c, services.tokens)) return c.json({ status } satisfies PublicHealthResponse, canSearch ? 200 : 503);
    const body: HealthResponse = {
      status,
      version: services.version,
      store: { kind: services.store.kind, points: probes.points },
      embedder: { id: services.embedder.id },
      indexing,
      dependencies,
      taxonomy,
    };
    return c.json(body, canSearch ? 200 : 503);
  });
}
