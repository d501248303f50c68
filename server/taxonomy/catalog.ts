import pLimit from 'p-limit';
import type { DocumentResponse, TaxonomyResponse } from '../../shared/api-types.js';
import { DomainError } from '../errors/domain-error.js';
import { readInLibrary, resolveInLibrary } from '../indexing/library-paths.js';
import type { VectorStore } from '../stores/vector-store.js';
import type { Taxonomy } from './taxonomy.js';
import { buildTaxonomyTree, DocumentTitles, titleFromText, toDocumentSummary } from './tree.js';

/** Reads at a time when listing titles: enough to be quick, few enough to spare file handles. */
const TITLE_CONCURRENCY = 16;

/**
 * The library as readers browse it: the taxonomy tree with each document's
 * title, and one indexed document's text. Shared by the HTTP routes
 * (GET /api/library/taxonomy, /documents) and the MCP tools and resources.
 */
export class LibraryCatalog {
  private readonly titles: DocumentTitles;

  constructor(
    private readonly libraryRoot: string,
    private readonly store: VectorStore,
    private readonly taxonomy: Taxonomy,
  ) {
    this.titles = new DocumentTitles(libraryRoot);
  }

  async tree(): Promise<TaxonomyResponse> {
    const files = await this.store.listFiles();
    const documents = await pLimit(TITLE_CONCURRENCY).map(files, async (file) => ({ file, summary: toDocumentSummary(file, await this.titles.get(file)) }));
    return buildTaxonomyTree(this.taxonomy, documents);
  }

  /** An indexed document with its text; 404 when it is not indexed or no longer on disk. */
  async document(requested: string): Promise<DocumentResponse> {
    const { rel } = resolveInLibrary(this.libraryRoot, requested);
    const file = await this.store.getFile(rel);
    if (!file) {
      throw new DomainError('not_found', `path: "${rel}" is not indexed; check the path in GET /api/library/taxonomy, or index it with POST /api/library/index {"path": "${rel}"}`);
    }
    // Through the one library read (library-paths.ts): a link that leaves the library reads as absent.
    const bytes = await readInLibrary(this.libraryRoot, rel);
    if (bytes === null) {
      throw new DomainError('not_found', `path: "${rel}" was indexed but is no longer in the library; re-index with POST /api/library/index {"all": true}`);
    }
    const content = bytes.toString('utf8');
    return {
      ...toDocumentSummary(file, titleFromText(content, rel)),
      content,
      taxonomy: file.taxonomy,
      file_hash: file.file_hash,
    };
  }
}
