/** Why an upload was not stored; each maps to one 4xx or 5xx (http/errors.ts). Nothing was written for any of them. */

/** The path belongs to another developer (or to nobody through the API): only they or an admin may replace it. */
export class NotOwnerError extends Error {
  override name = 'NotOwnerError';
  constructor(
    readonly filePath: string,
    readonly owner: string | null,
  ) {
    const who = owner === null ? 'was placed in the library directly, not uploaded' : `was contributed by "${owner}"`;
    super(`file_path: "${filePath}" ${who}; only they or an admin may replace it; upload under another path or workspace`);
  }
}

/** The indexer would not index this content (unsupported type, no text, binary, secret, ignored). */
export class UploadRefusedError extends Error {
  override name = 'UploadRefusedError';
  constructor(
    readonly code: 'unsupported_type' | 'not_indexable',
    message: string,
  ) {
    super(message);
  }
}

/** Indexing failed after the write; the previous version of the file was put back. */
export class UploadNotIndexedError extends Error {
  override name = 'UploadNotIndexedError';
}
