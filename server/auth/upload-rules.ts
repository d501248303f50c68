import type { UploadRequest } from '../../shared/api.js';
import type { Developer } from '../http/app-env.js';
import { DomainError } from '../errors/domain-error.js';
import type { LibraryIndexer } from '../indexing/indexer.js';
import type { VectorStore } from '../stores/vector-store.js';
import { mayModify } from './roles.js';

export interface UploadRuleDeps {
  indexer: LibraryIndexer;
  store: VectorStore;
  /** library.max_file_bytes */
  maxFileBytes: number;
}

/**
 * Who may upload what, for POST /api/library/index and the MCP tool index_text
 * alike: a file the indexer would skip for its size is refused out loud (413),
 * and replacing someone's document is deleting it, so only its contributor or
 * an admin may (403).
 */
export async function checkUpload(deps: UploadRuleDeps, developer: Developer, req: UploadRequest): Promise<void> {
  const bytes = Buffer.byteLength(req.content, 'utf8');
  if (bytes > deps.maxFileBytes) {
    throw new DomainError(
      'payload_too_large',
      `content: the file is ${bytes} bytes, more than library.max_file_bytes (${deps.maxFileBytes}); index a smaller file or ask an operator to raise library.max_file_bytes`,
    );
  }
  const target = deps.indexer.uploadTarget(req.file_path, req.workspace);
  const existing = await deps.store.getFile(target);
  if (existing && !mayModify(developer, existing.contributor)) {
    throw new DomainError(
      'forbidden',
      `file_path: "${target}" was contributed by ${existing.contributor === null ? 'nobody through the API' : `"${existing.contributor}"`}; only they or an admin may replace it; upload under another path or workspace`,
    );
  }
}
