import { rm } from 'node:fs/promises';
import { Hono } from 'hono';
import type { DocumentResponse } from '../../shared/api.js';
import { mayModify } from '../auth/roles.js';
import type { AppEnv } from '../http/app-env.js';
import { HttpError } from '../http/errors.js';
import { readInLibrary, resolveInLibrary } from '../indexing/library-paths.js';
import type { Services } from '../services.js';
import { buildTaxonomyTree, DocumentTitles, titleFromText, toDocumentSummary } from '../taxonomy/tree.js';

/** Reads at a time when listing titles: enough to be quick, few enough to spare file handles. */
const TITLE_CONCURRENCY = 16;

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i];
      if (item !== undefined) out[i] = await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function requiredPath(requested: string | undefined): string {
  if (requested === undefined || requested.trim() === '') {
    throw new HttpError(400, 'invalid_request', 'path: is required, e.g. /api/library/documents?path=guides/searching.md');
  }
  return requested;
}

/**
 * GET /api/library/taxonomy (the Library tree), GET /api/library/documents?path=
 * (one document) and DELETE /api/library/documents?path= (its contributor or an admin).
 */
export function taxonomyRoutes(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const libraryRoot = services.config.paths.library;
  const titles = new DocumentTitles(libraryRoot);

  app.get('/taxonomy', async (c) => {
    const files = await services.store.listFiles();
    const documents = await mapLimited(files, TITLE_CONCURRENCY, async (file) => ({ file, summary: toDocumentSummary(file, await titles.get(file)) }));
    return c.json(buildTaxonomyTree(services.taxonomy, documents));
  });

  app.get('/documents', async (c) => {
    const { rel } = resolveInLibrary(libraryRoot, requiredPath(c.req.query('path')));
    const file = await services.store.getFile(rel);
    if (!file) {
      throw new HttpError(404, 'not_found', `path: "${rel}" is not indexed; check the path in GET /api/library/taxonomy, or index it with POST /api/library/index {"path": "${rel}"}`);
    }
    const bytes = await readInLibrary(libraryRoot, rel);
    if (bytes === null) {
      throw new HttpError(404, 'not_found', `path: "${rel}" was indexed but is no longer in the library; re-index with POST /api/library/index {"all": true}`);
    }
    const content = bytes.toString('utf8');
    const body: DocumentResponse = {
      ...toDocumentSummary(file, titleFromText(content, rel)),
      content,
      taxonomy: file.taxonomy,
      file_hash: file.file_hash,
    };
    return c.json(body);
  });

  app.delete('/documents', async (c) => {
    const { rel, abs } = resolveInLibrary(libraryRoot, requiredPath(c.req.query('path')));
    const file = await services.store.getFile(rel);
    if (!file) {
      throw new HttpError(404, 'not_found', `path: "${rel}" is not indexed; check the path in GET /api/library/taxonomy`);
    }
    const developer = c.get('developer');
    if (!mayModify(developer, file.contributor)) {
      const owner = file.contributor === null ? 'was not contributed through the API' : `was contributed by "${file.contributor}"`;
      throw new HttpError(403, 'forbidden', `path: "${rel}" ${owner}; only its contributor or an admin may delete it`);
    }
    // The file goes first, so a concurrent re-index cannot bring the document back.
    await rm(abs, { force: true });
    // Re-indexing a path that is gone removes its chunks under the indexer's per-file lock.
    const res = await services.indexer.indexPath(rel);
    return c.json({ deleted: rel, chunks: res.files[0]?.chunks ?? 0 });
  });

  return app;
}
