import type { NormalizedFilters } from '../filters.js';
import { FILTER_COLUMNS_INDEX } from './schema.js';

export interface SqlFilter {
  /** Conditions on the `chunks` table aliased `c`, AND-ed; empty when there are none. */
  conditions: string[];
  params: Array<string | number>;
}

/** The upper bound of a `prefix/` range: '0' is the character after '/'. */
export function prefixEnd(prefixWithSlash: string): string {
  return `${prefixWithSlash.slice(0, -1)}0`;
}

/** Filters in SQL on `chunks c`; stores/filters.ts normalised them. */
export function sqlFilter(filters: NormalizedFilters): SqlFilter {
  const conditions: string[] = [];
  const params: Array<string | number> = [];
  const taxonomy = filters.taxonomy.join('/');
  if (taxonomy !== '') {
    // A prefix on whole segments: "engineering" matches "engineering" and
    // "engineering/backend", not "engineering-ops". Ranges keep the index usable.
    conditions.push('(c.taxonomy_full_path = ? OR (c.taxonomy_full_path >= ? AND c.taxonomy_full_path < ?))');
    params.push(taxonomy, `${taxonomy}/`, prefixEnd(`${taxonomy}/`));
  }
  const types = filters.contentTypes;
  if (types.length > 0) {
    conditions.push(`c.content_type IN (${types.map(() => '?').join(', ')})`);
    params.push(...types);
  }
  const filePath = filters.filePath;
  if (filePath?.kind === 'folder') {
    conditions.push('(c.file_path >= ? AND c.file_path < ?)');
    params.push(filePath.prefix, prefixEnd(filePath.prefix));
  } else if (filePath?.kind === 'file') {
    conditions.push('c.file_path = ?');
    params.push(filePath.path);
  }
  if (filters.excludeFilePath !== null) {
    conditions.push('c.file_path <> ?');
    params.push(filters.excludeFilePath);
  }
  return { conditions, params };
}

/** Names a filter with its parameters, for what the store learns of it (filter-knowledge.ts). */
export function filterKey(filter: SqlFilter): string {
  return `${filter.conditions.join(' AND ')}\u0000${JSON.stringify(filter.params)}`;
}

export function andWhere(filter: SqlFilter, first: boolean): string {
  if (filter.conditions.length === 0) return '';
  return `${first ? 'WHERE' : 'AND'} ${filter.conditions.join(' AND ')}`;
}

/**
 * The rowids, among a JSON array of them (the one parameter before the
 * filter's own), whose chunk exists and passes `filter`: tested on the
 * narrow index of the filter columns, not on the chunk rows (schema.ts).
 */
export function rowidsPassingSql(filter: SqlFilter): string {
  return `SELECT c.rowid FROM chunks c INDEXED BY ${FILTER_COLUMNS_INDEX} WHERE c.rowid IN (SELECT value FROM json_each(?)) ${andWhere(filter, false)}`;
}
