import { readFile } from 'node:fs/promises';
import { Hono } from 'hono';
import type { DocumentResponse } from '../../shared/api.js';
import { HttpError } from '../http/errors.js';
import { resolveInLibrary } from '../indexing/library-paths.js';
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

/** GET /api/library/taxonomy (the Library tree) and GET /api/library/documents?path= (one document). */
export function taxonomyRoutes(services: Services): Hono {
  const app = new Hono();
  const libraryRoot = services.config.paths.library;
  const titles = new DocumentTitles(libraryRoot);

  app.get('/taxonomy', async (c) => {
    const files = await services.store.listFiles();
    const documents = await mapLimited(files, TITLE_CONCURRENCY, async (file) => ({ file, summary: toDocumentSummary(file, await titles.get(file)) }));
    return c.json(buildTaxonomyTree(services.taxonomy, documents));
  });

  app.get('/documents', async (c) => {
    const requested = c.req.query('path');
    if (requested === undefined || requested.trim() === '') {
      throw new HttpError(400, 'invalid_request', 'path: is required, e.g. /api/library/documents?path=guides/searching.md');
    }
    const { rel, abs } = resolveInLibrary(libraryRoot, requested);
    const file = await services.store.getFile(rel);
    if (!file) {
      throw new HttpError(404, 'not_found', `path: "${rel}" is not indexed; check the path in GET /api/library/taxonomy, or index it with POST /api/library/index {"path": "${rel}"}`);
    }
    let content: string;
    try {
      content = await readFile(abs, 'utf8');
    } catch {
      throw new HttpError(404, 'not_found', `path: "${rel}" was indexed but is no longer in the library; re-index with POST /api/library/index {"all": true}`);
    }
    const body: DocumentResponse = {
      ...toDocumentSummary(file, titleFromText(content, rel)),
      content,
      taxonomy: file.taxonomy,
      file_hash: file.file_hash,
    };
    return c.json(body);
  });

  return app;
}
