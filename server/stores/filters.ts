import type { ContentType, SearchFilters } from '../../shared/api-types.js';

/**
 * Search filters in the one form the adapters translate (into SQL in the
 * embedded store, into a Qdrant filter): normalised once, here, so both stores
 * read `/a//b/` and `/docs//` alike and only the translation differs.
 */
export interface NormalizedFilters {
  /** Taxonomy path segments, trimmed, none empty (`/a//b/` → ["a", "b"]): a prefix on whole segments. Empty: any taxonomy. */
  taxonomy: string[];
  /** Any of these content types. Empty: any type. */
  contentTypes: ContentType[];
  /** One file by its exact path, or a folder and everything below it (`prefix` ends in "/"). null: any file. */
  filePath: { kind: 'file'; path: string } | { kind: 'folder'; prefix: string } | null;
  /** Leave this file's chunks out (finding documents similar to it). */
  excludeFilePath: string | null;
}

export function normalizeFilters(filters: SearchFilters | undefined, excludeFilePath?: string): NormalizedFilters {
  const taxonomy = (filters?.taxonomy ?? '')
    .split('/')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const contentTypes = filters?.content_type === undefined ? [] : [filters.content_type].flat();
  return { taxonomy, contentTypes, filePath: filePathFilter(filters?.file_path), excludeFilePath: excludeFilePath ?? null };
}

/** A trailing "/" names a folder: "/docs//" is the folder "docs/", and "/" alone is every file. */
function filePathFilter(filePath: string | undefined): NormalizedFilters['filePath'] {
  if (filePath === undefined) return null;
  if (!filePath.endsWith('/')) return { kind: 'file', path: filePath };
  const folder = filePath.replace(/^\/+/, '').replace(/\/+$/, '');
  return folder === '' ? null : { kind: 'folder', prefix: `${folder}/` };
}
