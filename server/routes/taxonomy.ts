import { rm } from 'node:fs/promises';
import { Hono } from 'hono';
import { DocumentPathQuerySchema } from '../../shared/api-schemas.js';
import type { DocumentDeleted } from '../../shared/api-types.js';
import { mayModify } from '../auth/roles.js';
import { DomainError } from '../errors/domain-error.js';
import type { AppEnv } from '../http/app-env.js';
import { validQuery } from '../http/body.js';
import { resolveInLibrary } from '../indexing/library-paths.js';
import type { Services } from '../services.js';

/**
 * GET /api/library/taxonomy (the Library tree), GET /api/library/documents?path=
 * (one document) and DELETE /api/library/documents?path= (its contributor or an admin).
 */
export function taxonomyRoutes(services: Services) {
  const libraryRoot = services.config.paths.library;
  return new Hono<AppEnv>()
  .get('/taxonomy', async (c) => c.json(await services.catalog.tree()))
  .get('/documents', validQuery(DocumentPathQuerySchema), async (c) => c.json(await services.catalog.document(c.req.valid('query').path)))
  .delete('/documents', validQuery(DocumentPathQuerySchema), async (c) => {
    const { rel, abs } = resolveInLibrary(libraryRoot, c.req.valid('query').path);
    const file = await services.store.getFile(rel);
    if (!file) {
      throw new DomainError('not_found', `path: "${rel}" is not indexed; check the path in GET /api/library/taxonomy`);
    }
    const developer = c.get('developer');
    if (!mayModify(developer, file.contributor)) {
      const owner = file.contributor === null ? 'was not contributed through the API' : `was contributed by "${file.contributor}"`;
      throw new DomainError('forbidden', `path: "${rel}" ${owner}; only its contributor or an admin may delete it`);
    }
    // The file goes first, so a concurrent re-index cannot bring the document back.
    await rm(abs, { force: true });
    // Re-indexing a path that is gone removes its chunks under the indexer's per-file lock.
    const res = await services.indexer.indexPath(rel);
    const result = res.files[0];
    // 200 only when the chunks are gone: a document still found by search was not deleted.
    if (result?.status !== 'deleted') {
      throw new DomainError('delete_failed', `path: "${rel}" was removed from disk but its chunks could not be removed (${result?.reason ?? result?.status ?? 'no result'}); retry the DELETE`);
    }
    const body: DocumentDeleted = { deleted: rel, chunks: result.chunks };
    return c.json(body);
  });
}
