import type { Schemas } from '@qdrant/js-client-rest';
import type { NormalizedFilters } from '../filters.js';
import { DIRS_KEY } from './layout.js';

/** Ancestor folders of a path, each ending in "/": "a/b/c.md" → ["a/", "a/b/"]. */
export function folderPrefixes(filePath: string): string[] {
  const parts = filePath.split('/').slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join('/') + '/');
}

/**
 * Filters (normalised by stores/filters.ts) in Qdrant terms. Keyword indexes
 * match whole values only, so a taxonomy prefix of one segment matches
 * `taxonomy.level1` and a longer one the exact `taxonomy.full_path` (paths
 * have two levels), and a folder matches one of the ancestor folders in `file_dirs`.
 */
export function qdrantFilter(filters: NormalizedFilters): Schemas['Filter'] | undefined {
  const must: Schemas['Condition'][] = [];
  const mustNot: Schemas['Condition'][] = [];
  const segments = filters.taxonomy;
  if (segments.length === 1) must.push({ key: 'taxonomy.level1', match: { value: segments[0] ?? '' } });
  else if (segments.length > 1) must.push({ key: 'taxonomy.full_path', match: { value: segments.join('/') } });
  if (filters.contentTypes.length > 0) must.push({ key: 'content_type', match: { any: filters.contentTypes } });
  const fp = filters.filePath;
  if (fp?.kind === 'folder') must.push({ key: DIRS_KEY, match: { value: fp.prefix } });
  else if (fp?.kind === 'file') must.push({ key: 'file_path', match: { value: fp.path } });
  if (filters.excludeFilePath !== null) mustNot.push({ key: 'file_path', match: { value: filters.excludeFilePath } });
  if (must.length === 0 && mustNot.length === 0) return undefined;
  return { ...(must.length ? { must } : {}), ...(mustNot.length ? { must_not: mustNot } : {}) };
}

export function fileFilter(filePath: string): Schemas['Filter'] {
  return { must: [{ key: 'file_path', match: { value: filePath } }] };
}
