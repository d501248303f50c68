import { Hono } from 'hono';
import { SearchRequestSchema, SimilarRequestSchema } from '../../shared/api-schemas.js';
import { readBody } from '../http/body.js';
import { checkQueryLength } from '../http/rate-limit.js';
import type { Services } from '../services.js';

export function queryRoutes(services: Services): Hono {
  const app = new Hono();
  app.post('/search', async (c) => {
    const req = await readBody(c, SearchRequestSchema);
    checkQueryLength(req.query, 'query', services.config.settings.limits);
    return c.json(await services.search.search(req));
  });
  app.post('/similar', async (c) => c.json(await services.search.similar(await readBody(c, SimilarRequestSchema))));
  return app;
}
