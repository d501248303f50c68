import { Hono } from 'hono';
import type { HealthResponse } from '../../shared/api.js';
import type { Services } from '../services.js';

export function healthRoutes(services: Services): Hono {
  const app = new Hono();
  app.get('/health', async (c) => {
    const points = await services.store.count();
    const body: HealthResponse = {
      status: services.indexer.progress.snapshot.state === 'failed' ? 'degraded' : 'ok',
      version: services.version,
      store: { kind: services.store.kind, points },
      embedder: { id: services.embedder.id },
      indexing: services.indexer.progress.snapshot,
    };
    return c.json(body);
  });
  return app;
}
