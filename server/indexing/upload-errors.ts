import { DomainError } from '../errors/domain-error.js';

/** Why an upload was not stored; each code has its status in http/errors.ts. Nothing was written for any of them. */

/** The path belongs to another developer (or to nobody through the API): only they or an admin may replace it. */
export class NotOwnerError extends DomainError {
  override name = 'NotOwnerError';
  constructor(
    readonly filePath: string,
    readonly owner: string | null,
  ) {
    const who = owner === null ? 'was placed in the library directly, not uploaded' : `was contributed by "${owner}"`;
    super('forbidden', `file_path: "${filePath}" ${who}; only they or an admin may replace it; upload under another path or workspace`);
  }
}

/** The indexer would not index this content (unsupported type, no text, binary, secret, ignored). */
export class UploadRefusedError extends DomainError {
  override name = 'UploadRefusedError';
  constructor(code: 'unsupported_type' | 'not_indexable', message: string) {
    super(code, message);
  }
}

/** Indexing failed after the write; the previous version of the file was put back. */
export class UploadNotIndexedError extends DomainError {
  override name = 'UploadNotIndexedError';
  constructor(message: string) {
    super('index_failed', message);
  }
}
