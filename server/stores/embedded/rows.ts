import { CONTENT_TYPES, type ChunkPayload, type ContentType, type TaxonomyPath } from '../../../shared/api-types.js';
import { identifierIndexText } from '../fts-query.js';
import type { FileRecord } from '../vector-store.js';

// Rows ↔ payloads: the only place that knows the column layout.

export type Row = Record<string, unknown>;
export type Params = Record<string, string | number | bigint | null | Buffer>;

export function isRow(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

export function corrupt(column: string, expected: string, value: unknown): Error {
  return new Error(
    `embedded store: column "${column}" holds ${value === null ? 'NULL' : typeof value}, expected ${expected}; ` +
      'the database file is damaged or was written by another program: restore a backup or re-index into a fresh DATA_DIR',
  );
}

export function row(value: unknown, what: string): Row {
  if (!isRow(value)) throw corrupt(what, 'a row', value);
  return value;
}

export function text(r: Row, column: string): string {
  const v = r[column];
  if (typeof v !== 'string') throw corrupt(column, 'text', v);
  return v;
}

export function textOrNull(r: Row, column: string): string | null {
  const v = r[column];
  if (v === null) return null;
  if (typeof v !== 'string') throw corrupt(column, 'text or NULL', v);
  return v;
}

export function num(r: Row, column: string): number {
  const v = r[column];
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number') throw corrupt(column, 'a number', v);
  return v;
}

export function numOrNull(r: Row, column: string): number | null {
  return r[column] === null ? null : num(r, column);
}

export function contentType(r: Row, column: string): ContentType {
  const v = text(r, column);
  const found = CONTENT_TYPES.find((t) => t === v);
  if (found === undefined) throw corrupt(column, `one of ${CONTENT_TYPES.join(', ')}`, v);
  return found;
}

export function taxonomyOf(r: Row): TaxonomyPath {
  return { full_path: text(r, 'taxonomy_full_path'), level1: text(r, 'level1'), level2: textOrNull(r, 'level2') };
}

export function rowToPayload(r: Row): ChunkPayload {
  return {
    file_path: text(r, 'file_path'),
    content: text(r, 'content'),
    content_type: contentType(r, 'content_type'),
    language: textOrNull(r, 'language'),
    section: text(r, 'section'),
    start_line: num(r, 'start_line'),
    end_line: num(r, 'end_line'),
    chunk_index: num(r, 'chunk_index'),
    content_hash: text(r, 'content_hash'),
    file_hash: text(r, 'file_hash'),
    taxonomy: taxonomyOf(r),
    classification: { confidence: num(r, 'confidence') },
    contributor: textOrNull(r, 'contributor'),
    created_at: text(r, 'created_at'),
    updated_at: text(r, 'updated_at'),
  };
}

export function payloadToParams(p: ChunkPayload): Params {
  return {
    file_path: p.file_path,
    chunk_index: p.chunk_index,
    content: p.content,
    content_type: p.content_type,
    language: p.language,
    section: p.section,
    start_line: p.start_line,
    end_line: p.end_line,
    content_hash: p.content_hash,
    file_hash: p.file_hash,
    taxonomy_full_path: p.taxonomy.full_path,
    level1: p.taxonomy.level1,
    level2: p.taxonomy.level2,
    confidence: p.classification.confidence,
    contributor: p.contributor,
    created_at: p.created_at,
    updated_at: p.updated_at,
    idents: identifierIndexText(p.content, p.section, p.file_path),
  };
}

export function rowToFile(r: Row): FileRecord {
  return {
    file_path: text(r, 'file_path'),
    file_hash: text(r, 'file_hash'),
    chunk_count: num(r, 'chunk_count'),
    content_type: contentType(r, 'content_type'),
    taxonomy: taxonomyOf(r),
    confidence: num(r, 'confidence'),
    contributor: textOrNull(r, 'contributor'),
    indexed_at: text(r, 'indexed_at'),
  };
}

export function fileToParams(f: FileRecord): Params {
  return {
    file_path: f.file_path,
    file_hash: f.file_hash,
    chunk_count: f.chunk_count,
    content_type: f.content_type,
    taxonomy_full_path: f.taxonomy.full_path,
    level1: f.taxonomy.level1,
    level2: f.taxonomy.level2,
    confidence: f.confidence,
    contributor: f.contributor,
    indexed_at: f.indexed_at,
  };
}

/** A Float32Array's own bytes (it may be a view into a larger buffer). */
export function vectorBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** Copies a blob into a fresh, aligned Float32Array; the Buffer may sit at any offset of a shared pool. */
export function blobToVector(value: unknown, column: string, dimension: number, into?: Float32Array): Float32Array {
  if (!(value instanceof Uint8Array)) throw corrupt(column, 'a float32 vector blob', value);
  if (value.byteLength !== dimension * 4) {
    throw corrupt(column, `a ${dimension}-dim float32 blob (${dimension * 4} bytes), not ${value.byteLength} bytes`, value);
  }
  const out = into ?? new Float32Array(dimension);
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(value);
  return out;
}
