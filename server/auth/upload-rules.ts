import type { IndexResponse, UploadRequest } from '../../shared/api-types.js';
import type { Developer } from '../http/app-env.js';
import { DomainError } from '../errors/domain-error.js';
import type { LibraryIndexer } from '../indexing/indexer.js';
import { mayModify } from './roles.js';

export interface UploadDeps {
  indexer: LibraryIndexer;
  /** library.max_file_bytes */
  maxFileBytes: number;
}

/**
 * An upload as a developer, for POST /api/library/index and the MCP tool
 * index_text alike: a file the indexer would skip for its size is refused out
 * loud (413), and replacing someone's document is deleting it, so only its
 * contributor or an admin may — the indexer checks that under the file's lock,
 * so two developers racing for one new path cannot both win (403 naming the owner).
 */
export async function uploadAs(deps: UploadDeps, developer: Developer, req: UploadRequest): Promise<IndexResponse> {
  const bytes = Buffer.byteLength(req.content, 'utf8');
  if (bytes > deps.maxFileBytes) {
    throw new DomainError(
      'payload_too_large',
      `content: the file is ${bytes} bytes, more than library.max_file_bytes (${deps.maxFileBytes}); index a smaller file or ask an operator to raise library.max_file_bytes`,
    );
  }
  return deps.indexer.indexUpload(req.file_path, req.content, req.workspace, {
    contributor: developer.name,
    mayReplace: (owner) => mayModify(developer, owner),
  });
}
