import type { ChunkPayload } from '../../../shared/api-types.js';
import { identifierIndexText } from '../fts-query.js';

/**
 * What Qdrant's BM25 indexes for a chunk: the columns the embedded store's FTS5
 * index holds (content, heading path, file path) plus the same identifier
 * expansion (`createVectorStore` → createvectorstore create vector store), so
 * keyword search finds the same chunks in both stores.
 */
export function bm25Text(payload: ChunkPayload): string {
  const idents = identifierIndexText(payload.content, payload.section, payload.file_path);
  return [payload.section, payload.content, payload.file_path, idents].filter((s) => s !== '').join('\n');
}

/** The query gets the same identifier expansion as the indexed text. */
export function bm25Query(text: string): string {
  const idents = identifierIndexText(text);
  return idents ? `${text}\n${idents}` : text;
}
