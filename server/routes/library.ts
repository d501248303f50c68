import { Hono } from 'hono';
import { IndexRequestSchema, type IndexRequest, type StatsResponse } from '../../shared/api.js';
import { parseWith, readJson } from '../http/body.js';
import { HttpError } from '../http/errors.js';
import type { Services } from '../services.js';

/** A union's own error says little; pick the variant by its key so the message names the field. */
function parseIndexRequest(body: unknown): IndexRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_request', 'body: must be a JSON object: {"all": true}, {"path": "..."} or {"file_path": "...", "content": "..."}');
  }
  if (!('all' in body) && !('path' in body) && !('file_path' in body)) {
    throw new HttpError(400, 'invalid_request', 'body: give one of {"all": true}, {"path": "..."} or {"file_path": "...", "content": "..."}');
  }
  return parseWith(IndexRequestSchema, body);
}

export function libraryRoutes(services: Services): Hono {
  const app = new Hono();
  app.post('/index', async (c) => {
    const req = parseIndexRequest(await readJson(c));
    const { indexer } = services;
    if ('all' in req) return c.json(await indexer.indexAll());
    if ('path' in req) return c.json(await indexer.indexPath(req.path));
    return c.json(await indexer.indexUpload(req.file_path, req.content, req.workspace));
  });
  app.get('/stats', async (c) => {
    const stats = await services.store.stats();
    const body: StatsResponse = {
      ...stats,
      embedder: { id: services.embedder.id, dimension: services.embedder.dimension },
      store: { kind: services.store.kind, location: services.store.location },
    };
    return c.json(body);
  });
  return app;
}
