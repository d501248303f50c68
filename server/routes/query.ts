import { Hono } from 'hono';
import { SearchRequestSchema, SimilarRequestSchema } from '../../shared/api-schemas.js';
import type { AppEnv } from '../http/app-env.js';
import { requireJson, validJson } from '../http/body.js';
import { checkQueryLength } from '../http/rate-limit.js';
import type { Services } from '../services.js';

/** POST /api/query/search and /api/query/similar. */
export function queryRoutes(services: Services) {
  return new Hono<AppEnv>()
    .post('/search', requireJson, validJson(SearchRequestSchema), async (c) => {
      const req = c.req.valid('json');
      checkQueryLength(req.query, 'query', services.config.settings.limits);
      return c.json(await services.search.search(req));
    })
    .post('/similar', requireJson, validJson(SimilarRequestSchema), async (c) => c.json(await services.search.similar(c.req.valid('json'))));
}
