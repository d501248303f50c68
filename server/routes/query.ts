import { Hono } from 'hono';
import { SearchRequestSchema, SimilarRequestSchema } from '../../shared/api.js';
import { readBody } from '../http/body.js';
import type { Services } from '../services.js';

export function queryRoutes(services: Services): Hono {
  const app = new Hono();
  app.post('/search', async (c) => c.json(await services.search.search(await readBody(c, SearchRequestSchema))));
  app.post('/similar', async (c) => c.json(await services.search.similar(await readBody(c, SimilarRequestSchema))));
  return app;
}
