/**
 * The default store: one SQLite file (better-sqlite3 + sqlite-vec) holding
 * chunks, payloads, vectors and an FTS5 keyword index, written in single
 * transactions so a crash leaves either the old or the new version of a file.
 *
 * Dense search does not scan SQLite: an HNSW graph (dense-index.ts) proposes a
 * few hundred candidates and only those are re-ranked exactly with sqlite-vec's
 * `vec_distance_cosine` over the stored float vectors. The graph is derived
 * data: it is saved beside the database, checked against it at open, brought
 * up to date from `vector_log` (below), and rebuilt in the background when it
 * cannot be; until it is ready dense search scans SQLite exactly.
 *
 * Vectors live in a plain rowid table (`chunk_vectors`), not a vec0 virtual
 * table. Measured here at 100k × 1024 dims: reading one vector by rowid from
 * vec0 costs ~1.25 ms (it walks a 4 MB chunk blob; ~30 µs with chunk_size=8),
 * so re-ranking 400 candidates took 500 ms; from a rowid table 400 vectors
 * come back in one statement in ~2.5 ms, and streaming all of them at open
 * takes 0.6 s instead of 4 s. vec0's own KNN is a full scan (~70 ms at 50k),
 * which this store never needs. The blobs are sqlite-vec's float32 format, and
 * a CHECK constraint enforces the dimension, as vec0 would.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { privateSqliteFile } from '../storage/private-files.js';
import { openDatabase } from '../storage/sqlite-driver.js';
import * as sqliteVec from 'sqlite-vec';
import { CONTENT_TYPES, type ChunkPayload, type ContentType, type SearchFilters, type TaxonomyPath } from '../../shared/api.js';
import type { EmbedderInfo } from '../embedders/embedder.js';
import { DenseIndex } from './dense-index.js';
import { loadSavedIndex, readSavedIndex, removeUnnamedIndexFiles, saveIndex } from './dense-index-file.js';
import { FilterStatsCache } from './filter-stats.js';
import { ftsArms, identifierIndexText, joinArms } from './fts-query.js';
import { EQUAL_WEIGHTS, fuseScores } from './score-fusion.js';
import {
  EmbedderMismatchError,
  type FileRecord,
  type ScoredPoint,
  type StoredPoint,
  type StoreQuery,
  type StoreStats,
  type VectorStore,
} from './vector-store.js';

const SCHEMA_VERSION = 1;
/**
 * Every write transaction below is BEGIN IMMEDIATE: it takes the write lock
 * up front, so a second writer (the CLI beside the server) waits up to this
 * long for it. A deferred transaction that reads first and then writes gets
 * SQLITE_BUSY at once in WAL mode when another connection wrote in between
 * ("database is locked"), without waiting.
 */
const BUSY_TIMEOUT_MS = 5000;

/**
 * bm25 column weights, in `chunks_fts` column order. Section headings and the
 * identifier column count double: a heading names what a chunk is about, and
 * an identifier hit means the query named a symbol the chunk uses. File paths
 * sit between (they name the topic but every chunk of a file shares them).
 */
const BM25_WEIGHTS = { content: 1.0, section: 2.0, file_path: 1.5, idents: 2.0 } as const;
const BM25 = `bm25(chunks_fts, ${BM25_WEIGHTS.content}, ${BM25_WEIGHTS.section}, ${BM25_WEIGHTS.file_path}, ${BM25_WEIGHTS.idents})`;

/**
 * Most rows BM25 is computed for per keyword search. FTS5 scores and sorts
 * every row a MATCH returns (~1.5–4 µs each here), so one query word found in
 * most chunks ("the", "function") costs 150 ms+ at 100k chunks. Arms are kept
 * rarest first while their matches fit this budget; the dropped ones are the
 * commonest words, whose IDF makes them nearly worthless to BM25 anyway.
 */
const DEFAULT_KEYWORD_ROW_BUDGET = 5_000;

/** A filtered keyword search ranks this many times its limit without the filter before joining every match (keywordSearch). */
const KEYWORD_FILTER_DEPTH = 8;

/** Each side of a hybrid search fetches this many, so fusion has overlap to work with. */
function hybridSideLimit(limit: number): number {
  return Math.max(limit * 3, 50);
}

/**
 * HNSW candidates re-ranked exactly per dense search (the graph's search beam
 * is wider, see dense-index.ts). 50 for a top-10 already gave recall@10 1.0 on
 * 50k clustered 1024-dim vectors; 100 was needed on random ones. Each
 * candidate costs one exact re-rank read (~6 µs).
 */
function candidatePool(limit: number): number {
  return Math.max(100, limit * 4);
}

/** Below this many vectors an exact scan is as fast as the graph and needs no index. */
const DEFAULT_EXACT_BELOW = 2_000;
/** A filter matching at most this many chunks is scored exactly: cheaper than over-fetching from the graph. */
const DEFAULT_EXACT_FILTER_ROWS = 2_000;
/**
 * With a filter, the graph is asked again until as many candidates pass as an
 * unfiltered search re-ranks (the pool): the deepest candidates of a graph
 * search are its least certain, so stopping at 'limit' passing ones let them
 * decide the last ranks (0.97 of exact filtered results at 30k clustered
 * vectors). Each round sizes its request from the share that passed so far, at
 * most OVERFETCH_GROWTH times the last, for at most OVERFETCH_ROUNDS rounds;
 * then the filter's rows are scanned exactly.
 */
const OVERFETCH_GROWTH = 16;
const OVERFETCH_ROUNDS = 4;
/** Vectors read from SQLite per step while building or catching up; the event loop runs between steps. */
const BUILD_STEP = 512;
/** While the graph catches up with up to this many changed rows, searches also score those rows exactly; beyond, they scan exactly. */
const PENDING_MERGE_LIMIT = 20_000;
/** A graph whose deleted or changed keys (dense-index.ts `debt`) pass this many, and this share of it, is rebuilt. */
const REBUILD_DEBT_MIN = 1_000;
const REBUILD_DEBT_SHARE = 0.25;
/** A changed graph is saved this long after its first unsaved change (and at close); the log covers the gap. */
const SAVE_DELAY_MS = 5 * 60_000;

const CHUNK_COLUMNS = [
  'id',
  'file_path',
  'chunk_index',
  'content',
  'content_type',
  'language',
  'section',
  'start_line',
  'end_line',
  'content_hash',
  'file_hash',
  'taxonomy_full_path',
  'level1',
  'level2',
  'confidence',
  'contributor',
  'created_at',
  'updated_at',
  'idents',
] as const;

/** The chunk columns mirrored into chunks_fts. */
const FTS_COLUMNS: readonly string[] = ['content', 'section', 'file_path', 'idents'];

const FILE_COLUMNS = [
  'file_path',
  'file_hash',
  'chunk_count',
  'content_type',
  'taxonomy_full_path',
  'level1',
  'level2',
  'confidence',
  'contributor',
  'indexed_at',
] as const;

/** Payload columns as read back (idents is index material, not payload). */
const CHUNK_SELECT = `c.rowid AS rowid, ${CHUNK_COLUMNS.filter((c) => c !== 'idents')
  .map((c) => `c.${c}`)
  .join(', ')}`;

/**
 * The keyword index's tokenizer. Porter stemming over unicode61 lets prose
 * match across inflections ("adds files" finds "add a file"); identifiers
 * still match exactly, because the query's identifiers go through the same
 * stemmer as the index's and their collapsed forms (`createvectorstore`) are
 * whole tokens in the `idents` column (stores/fts-query.ts). A store whose
 * index was built with another tokenizer is rebuilt on open (see createSchema):
 * stemmed and unstemmed tokens must never meet in one index.
 */
export const FTS_TOKENIZER = 'porter unicode61 remove_diacritics 2';

const FTS_TABLE = `CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
  content, section, file_path, idents,
  content='chunks', content_rowid='rowid',
  tokenize="${FTS_TOKENIZER}"
);`;

const BASE_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
  file_path TEXT PRIMARY KEY,
  file_hash TEXT NOT NULL,
  chunk_count INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  taxonomy_full_path TEXT NOT NULL,
  level1 TEXT NOT NULL,
  level2 TEXT,
  confidence REAL NOT NULL,
  contributor TEXT,
  indexed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  file_path TEXT NOT NULL,
  chunk_index INTEGER NOT NULL,
  content TEXT NOT NULL,
  content_type TEXT NOT NULL,
  language TEXT,
  section TEXT NOT NULL,
  start_line INTEGER NOT NULL,
  end_line INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  file_hash TEXT NOT NULL,
  taxonomy_full_path TEXT NOT NULL,
  level1 TEXT NOT NULL,
  level2 TEXT,
  confidence REAL NOT NULL,
  contributor TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  idents TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS chunks_file_path ON chunks(file_path, chunk_index);
CREATE INDEX IF NOT EXISTS chunks_content_type ON chunks(content_type);
CREATE INDEX IF NOT EXISTS chunks_taxonomy ON chunks(taxonomy_full_path);
CREATE INDEX IF NOT EXISTS chunks_level1 ON chunks(level1);
${FTS_TABLE}
CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, content, section, file_path, idents)
  VALUES (new.rowid, new.content, new.section, new.file_path, new.idents);
END;
CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, content, section, file_path, idents)
  VALUES ('delete', old.rowid, old.content, old.section, old.file_path, old.idents);
END;
CREATE TRIGGER IF NOT EXISTS chunks_fts_update AFTER UPDATE OF content, section, file_path, idents ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, content, section, file_path, idents)
  VALUES ('delete', old.rowid, old.content, old.section, old.file_path, old.idents);
  INSERT INTO chunks_fts(rowid, content, section, file_path, idents)
  VALUES (new.rowid, new.content, new.section, new.file_path, new.idents);
END;
`;

function vectorTableSql(dimension: number): string {
  return `CREATE TABLE IF NOT EXISTS chunk_vectors (
    rowid INTEGER PRIMARY KEY,
    embedding BLOB NOT NULL CHECK (typeof(embedding) = 'blob' AND length(embedding) = ${dimension * 4})
  )`;
}

/**
 * The generation number of the vectors: every write to chunk_vectors appends
 * its rowid to vector_log from a trigger, so in the writer's own transaction
 * and from any process (the CLI indexer too). The log's AUTOINCREMENT counter
 * (sqlite_sequence) is the generation; a saved dense index records the
 * generation it reflects and replays the rows logged after it. Saving prunes
 * the log up to the saved generation (meta `vector_log_pruned_through`).
 */
const VECTOR_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS vector_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  chunk_rowid INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS vector_log_insert AFTER INSERT ON chunk_vectors BEGIN
  INSERT INTO vector_log(chunk_rowid) VALUES (new.rowid);
END;
CREATE TRIGGER IF NOT EXISTS vector_log_update AFTER UPDATE ON chunk_vectors BEGIN
  INSERT INTO vector_log(chunk_rowid) VALUES (new.rowid);
END;
CREATE TRIGGER IF NOT EXISTS vector_log_delete AFTER DELETE ON chunk_vectors BEGIN
  INSERT INTO vector_log(chunk_rowid) VALUES (old.rowid);
END;
`;

// ---------------------------------------------------------------------------
// Rows ↔ payloads: the only place that knows the column layout.

type Row = Record<string, unknown>;
type Params = Record<string, string | number | bigint | null | Buffer>;

function isRow(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function corrupt(column: string, expected: string, value: unknown): Error {
  return new Error(
    `embedded store: column "${column}" holds ${value === null ? 'NULL' : typeof value}, expected ${expected}; ` +
      'the database file is damaged or was written by another program: restore a backup or re-index into a fresh DATA_DIR',
  );
}

function row(value: unknown, what: string): Row {
  if (!isRow(value)) throw corrupt(what, 'a row', value);
  return value;
}

function text(r: Row, column: string): string {
  const v = r[column];
  if (typeof v !== 'string') throw corrupt(column, 'text', v);
  return v;
}

function textOrNull(r: Row, column: string): string | null {
  const v = r[column];
  if (v === null) return null;
  if (typeof v !== 'string') throw corrupt(column, 'text or NULL', v);
  return v;
}

function num(r: Row, column: string): number {
  const v = r[column];
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number') throw corrupt(column, 'a number', v);
  return v;
}

function numOrNull(r: Row, column: string): number | null {
  return r[column] === null ? null : num(r, column);
}

function contentType(r: Row, column: string): ContentType {
  const v = text(r, column);
  const found = CONTENT_TYPES.find((t) => t === v);
  if (found === undefined) throw corrupt(column, `one of ${CONTENT_TYPES.join(', ')}`, v);
  return found;
}

function taxonomyOf(r: Row): TaxonomyPath {
  return { full_path: text(r, 'taxonomy_full_path'), level1: text(r, 'level1'), level2: textOrNull(r, 'level2') };
}

function rowToPayload(r: Row): ChunkPayload {
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

function payloadToParams(p: ChunkPayload): Params {
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

function rowToFile(r: Row): FileRecord {
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

function fileToParams(f: FileRecord): Params {
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
function vectorBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** Copies a blob into a fresh, aligned Float32Array; the Buffer may sit at any offset of a shared pool. */
function blobToVector(value: unknown, column: string, dimension: number, into?: Float32Array): Float32Array {
  if (!(value instanceof Uint8Array)) throw corrupt(column, 'a float32 vector blob', value);
  if (value.byteLength !== dimension * 4) {
    throw corrupt(column, `a ${dimension}-dim float32 blob (${dimension * 4} bytes), not ${value.byteLength} bytes`, value);
  }
  const out = into ?? new Float32Array(dimension);
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(value);
  return out;
}

// ---------------------------------------------------------------------------
// Filters

interface SqlFilter {
  /** Conditions on the `chunks` table aliased `c`, AND-ed; empty when there are none. */
  conditions: string[];
  params: Array<string | number>;
}

/** The upper bound of a `prefix/` range: '0' is the character after '/'. */
function prefixEnd(prefixWithSlash: string): string {
  return `${prefixWithSlash.slice(0, -1)}0`;
}

function buildFilter(filters: SearchFilters | undefined, excludeFilePath?: string): SqlFilter {
  const conditions: string[] = [];
  const params: Array<string | number> = [];
  // Same normalisation as the Qdrant store: `/a//b/` means `a/b`.
  const taxonomy = (filters?.taxonomy ?? '')
    .split('/')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .join('/');
  if (taxonomy !== '') {
    // A prefix on whole segments: "engineering" matches "engineering" and
    // "engineering/backend", not "engineering-ops". Ranges keep the index usable.
    conditions.push('(c.taxonomy_full_path = ? OR (c.taxonomy_full_path >= ? AND c.taxonomy_full_path < ?))');
    params.push(taxonomy, `${taxonomy}/`, prefixEnd(`${taxonomy}/`));
  }
  const types = filters?.content_type === undefined ? [] : [filters.content_type].flat();
  if (types.length > 0) {
    conditions.push(`c.content_type IN (${types.map(() => '?').join(', ')})`);
    params.push(...types);
  }
  const filePath = filters?.file_path;
  if (filePath !== undefined) {
    if (filePath.endsWith('/')) {
      // Same normalisation as the Qdrant store: "/docs//" is the folder "docs/"; "/" alone is everything.
      const folder = filePath.replace(/^\/+/, '').replace(/\/+$/, '');
      if (folder !== '') {
        conditions.push('(c.file_path >= ? AND c.file_path < ?)');
        params.push(`${folder}/`, prefixEnd(`${folder}/`));
      }
    } else {
      conditions.push('c.file_path = ?');
      params.push(filePath);
    }
  }
  if (excludeFilePath !== undefined) {
    conditions.push('c.file_path <> ?');
    params.push(excludeFilePath);
  }
  return { conditions, params };
}

/** Names a filter with its parameters, for FilterStatsCache. */
function filterKey(filter: SqlFilter): string {
  return `${filter.conditions.join(' AND ')}\u0000${JSON.stringify(filter.params)}`;
}

function andWhere(filter: SqlFilter, first: boolean): string {
  if (filter.conditions.length === 0) return '';
  return `${first ? 'WHERE' : 'AND'} ${filter.conditions.join(' AND ')}`;
}

// ---------------------------------------------------------------------------

/** Lets the event loop serve requests between steps of a long index build. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Ranked {
  rowid: number;
  score: number;
}

export interface EmbeddedStoreOptions {
  /** Most FTS rows BM25 ranks per keyword search (see DEFAULT_KEYWORD_ROW_BUDGET). */
  keywordRowBudget?: number;
  /** Dense search scans exactly below this many vectors (DEFAULT_EXACT_BELOW). */
  exactBelow?: number;
  /** A filter matching at most this many chunks is scored exactly (DEFAULT_EXACT_FILTER_ROWS). */
  exactFilterRows?: number;
  /** false: never open the dense index, always scan exactly (a reference for tests and the bench). */
  denseIndex?: boolean;
}

/** Where the dense index is: absent (exact scans), being opened, or serving. */
export type DenseIndexState = 'none' | 'opening' | 'ready';

class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

export class EmbeddedStore implements VectorStore {
  readonly kind = 'embedded' as const;
  readonly location: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement<unknown[]>>();
  private embedder: EmbedderInfo | null = null;
  /** The HNSW graph once opened, and the vector generation it reflects. */
  private dense: DenseIndex | null = null;
  private denseGeneration = 0;
  private denseOpening: Promise<void> | null = null;
  /** The background replay of logged changes (any process's, this one's too) into `dense`. */
  private catchingUp: Promise<void> | null = null;
  /** The next open builds from SQLite instead of loading the saved graph (set when the graph's debt is too high). */
  private rebuildNext = false;
  private saveTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private readonly keywordRowBudget: number;
  private readonly exactBelow: number;
  private readonly exactFilterRows: number;
  private readonly useDenseIndex: boolean;
  private readonly filterStats = new FilterStatsCache();

  constructor(dbFile: string, options: EmbeddedStoreOptions = {}) {
    this.location = path.resolve(dbFile);
    this.keywordRowBudget = options.keywordRowBudget ?? DEFAULT_KEYWORD_ROW_BUDGET;
    this.exactBelow = options.exactBelow ?? DEFAULT_EXACT_BELOW;
    this.exactFilterRows = options.exactFilterRows ?? DEFAULT_EXACT_FILTER_ROWS;
    this.useDenseIndex = options.denseIndex ?? true;
    try {
      privateSqliteFile(this.location);
      this.db = openDatabase(this.location);
    } catch (err) {
      throw new Error(
        `embedded store: cannot open ${this.location}: ${err instanceof Error ? err.message : String(err)}; ` +
          'check that DATA_DIR exists, is writable and is not on a full disk',
      );
    }
    try {
      sqliteVec.load(this.db);
    } catch (err) {
      this.db.close();
      throw new Error(
        `embedded store: the sqlite-vec extension did not load (${err instanceof Error ? err.message : String(err)}); ` +
          `reinstall dependencies on this machine (npm ci) so the ${process.platform}-${process.arch} build is present, or set vector.store to "qdrant"`,
      );
    }
    try {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a power cut may lose the last commits but never corrupts the file.
      this.db.pragma('synchronous = NORMAL');
      this.createSchema();
    } catch (err) {
      this.db.close();
      if (err instanceof SchemaTooNewError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(
        `embedded store: ${this.location} cannot be used as a store (${msg}); ` +
          'if it is not an AI Library database or is damaged, move it away (or restore a backup) and re-index',
      );
    }
  }

  private createSchema(): void {
    this.db.transaction(() => {
      this.db.exec(BASE_SCHEMA);
      const stored = this.meta('schema_version');
      if (stored !== null && Number(stored) > SCHEMA_VERSION) {
        throw new SchemaTooNewError(
          `embedded store: ${this.location} has schema version ${stored}, newer than this server understands (${SCHEMA_VERSION}); upgrade the server or use another DATA_DIR`,
        );
      }
      if (stored === null) this.setMeta('schema_version', String(SCHEMA_VERSION));
      if (this.meta('fts_tokenizer') !== FTS_TOKENIZER) {
        // Built before stemming (no fts_tokenizer recorded) or with another tokenizer:
        // re-tokenize every chunk from the chunks table, inside this transaction.
        this.db.exec('DROP TABLE IF EXISTS chunks_fts');
        this.db.exec(FTS_TABLE);
        this.db.exec("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')");
        this.setMeta('fts_tokenizer', FTS_TOKENIZER);
      }
      // Names this database to the dense index saved beside it, so a file from another store is never trusted.
      if (this.meta('store_id') === null) this.setMeta('store_id', randomUUID());
    }).immediate();
  }

  // -- plumbing --------------------------------------------------------------

  private stmt(sql: string): Database.Statement<unknown[]> {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare<unknown[]>(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** First-column values only: no row objects for queries returning thousands of rowids. */
  private rowids(sql: string, ...params: unknown[]): number[] {
    const key = `pluck:${sql}`;
    let s = this.statements.get(key);
    if (s === undefined) {
      s = this.db.prepare<unknown[]>(sql).pluck();
      this.statements.set(key, s);
    }
    const values = s.all(...params);
    const out = new Array<number>(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number') throw corrupt('rowid', 'an integer', v);
      out[i] = v;
    }
    return out;
  }

  private meta(key: string): string | null {
    const r = this.stmt('SELECT value FROM meta WHERE key = ?').get(key);
    return r === undefined ? null : text(row(r, 'meta'), 'value');
  }

  private setMeta(key: string, value: string): void {
    this.stmt('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  private scalar(sql: string, ...params: unknown[]): number {
    const r = this.stmt(sql).get(...params);
    return num(row(r, 'count'), 'n');
  }

  private open(): void {
    if (this.closed) throw new Error(`embedded store ${this.location} is closed; create a new EmbeddedStore to use it again`);
  }

  private ready(): { embedder: EmbedderInfo } {
    this.open();
    if (this.embedder === null) {
      throw new Error(`embedded store ${this.location} is not initialised; call init(embedder) before using it`);
    }
    return { embedder: this.embedder };
  }

  // -- the dense index ---------------------------------------------------------

  /** The vector generation: the last vector_log seq ever written (see VECTOR_LOG_SCHEMA). */
  private generation(): number {
    const r = this.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'").get();
    return r === undefined ? 0 : num(row(r, 'sqlite_sequence'), 'seq');
  }

  private prunedThrough(): number {
    return Number(this.meta('vector_log_pruned_through') ?? 0);
  }

  /** The current vectors of `rowids`, as stored (rows that are gone are absent). */
  private vectorsOf(rowids: readonly number[]): Map<number, Float32Array> {
    const { embedder } = this.ready();
    const out = new Map<number, Float32Array>();
    if (rowids.length === 0) return out;
    const rows = this.stmt('SELECT rowid, embedding FROM chunk_vectors WHERE rowid IN (SELECT value FROM json_each(?))').all(JSON.stringify(rowids));
    for (const r of rows) {
      const rr = row(r, 'chunk_vectors');
      out.set(num(rr, 'rowid'), blobToVector(rr.embedding, 'embedding', embedder.dimension));
    }
    return out;
  }

  /** Makes `rowids` in `index` what chunk_vectors holds now: changed vectors replaced, deleted ones removed. */
  private refresh(index: DenseIndex, rowids: readonly number[]): void {
    const current = this.vectorsOf(rowids);
    index.remove(rowids.filter((r) => !current.has(r)));
    index.upsert([...current.keys()], [...current.values()]);
  }

  /**
   * Applies up to `max` logged changes after generation `from` to `index`;
   * returns the generation it reached. Each change re-reads the row's current
   * vector, so replaying a change twice, or one the index already has, is harmless.
   */
  private replay(index: DenseIndex, from: number, max: number): number {
    const rows = this.stmt('SELECT seq, chunk_rowid FROM vector_log WHERE seq > ? ORDER BY seq LIMIT ?').all(from, max);
    if (rows.length === 0) return from;
    const changed = new Set<number>();
    let last = from;
    for (const r of rows) {
      const rr = row(r, 'vector_log');
      changed.add(num(rr, 'chunk_rowid'));
      last = num(rr, 'seq');
    }
    this.refresh(index, [...changed]);
    return last;
  }

  private pendingChanges(from: number, cap: number): number {
    return this.scalar('SELECT count(*) AS n FROM (SELECT 1 FROM vector_log WHERE seq > ? LIMIT ?)', from, cap);
  }

  /**
   * Starts opening the dense index in the background, if it is not open or
   * opening: the saved file when it matches this store (then the changes
   * logged since it was saved are replayed), else a build from chunk_vectors.
   * Dense searches scan exactly until it is ready. Resolves when it is.
   */
  prepareIndex(): Promise<void> {
    this.ready();
    if (this.dense !== null || !this.useDenseIndex) return Promise.resolve();
    this.denseOpening ??= this.openDense().finally(() => {
      this.denseOpening = null;
    });
    return this.denseOpening;
  }

  denseIndexState(): DenseIndexState {
    if (this.dense !== null) return 'ready';
    return this.denseOpening === null ? 'none' : 'opening';
  }

  private async openDense(): Promise<void> {
    const { embedder } = this.ready();
    let index: DenseIndex | null = null;
    let generation = 0;
    let rebuilt = false;
    // After a rebuild was asked for, the saved graph carries the same debt: build afresh.
    const saved = this.rebuildNext ? null : readSavedIndex(this.location);
    this.rebuildNext = false;
    const current = this.generation();
    const usable =
      saved !== null &&
      saved.store_id === this.meta('store_id') &&
      saved.embedder_id === embedder.id &&
      saved.dimension === embedder.dimension &&
      saved.generation <= current &&
      saved.generation >= this.prunedThrough() &&
      (saved.generation !== current || saved.vectors === null || saved.vectors === this.scalar('SELECT count(*) AS n FROM chunk_vectors'));
    if (saved !== null && usable) {
      try {
        index = loadSavedIndex(this.location, saved);
        generation = saved.generation;
      } catch {
        // A damaged or foreign file: rebuilt below, exactly as if there were none.
        index = null;
      }
    }
    removeUnnamedIndexFiles(this.location, index !== null && saved !== null ? saved.file : null);
    if (index === null) {
      rebuilt = true;
      index = DenseIndex.create(embedder.dimension);
      generation = this.generation();
      // Rows written while this runs are logged after `generation` and replayed below.
      for (let after = 0; ; ) {
        const rowids = this.rowids('SELECT rowid FROM chunk_vectors WHERE rowid > ? ORDER BY rowid LIMIT ?', after, BUILD_STEP);
        if (rowids.length === 0) break;
        this.refresh(index, rowids);
        after = rowids[rowids.length - 1]!;
        await nextTurn();
        if (this.closed || this.embedder !== embedder) return;
      }
    }
    let replayed = 0;
    for (;;) {
      const reached = this.replay(index, generation, BUILD_STEP);
      if (reached === generation) break;
      replayed += 1;
      generation = reached;
      await nextTurn();
      if (this.closed || this.embedder !== embedder) return;
    }
    this.dense = index;
    this.denseGeneration = generation;
    if (rebuilt) this.saveDense();
    else if (replayed > 0) this.scheduleSave();
  }

  /**
   * The graph to search and, when it lags the log, the generation it reflects
   * (the rows changed after it are scored exactly beside its candidates while
   * it catches up in the background); null when searches must scan exactly
   * (no graph yet, or too far behind).
   */
  private denseForSearch(): { index: DenseIndex; behindFrom: number | null } | null {
    if (!this.useDenseIndex) return null;
    if (this.dense === null) {
      void this.prepareIndex().catch(() => {
        // The exact scan keeps answering; the next search tries again.
      });
      return null;
    }
    const index = this.dense;
    if (this.generation() === this.denseGeneration) return { index, behindFrom: null };
    if (this.denseGeneration < this.prunedThrough()) {
      // Another process pruned changes this graph never saw: only a rebuild is right.
      this.dense = null;
      return this.denseForSearch();
    }
    this.startCatchUp();
    return this.pendingChanges(this.denseGeneration, PENDING_MERGE_LIMIT + 1) <= PENDING_MERGE_LIMIT ? { index, behindFrom: this.denseGeneration } : null;
  }

  /**
   * Replays the log into the graph in batches between other work. Writes only
   * log (in their transaction, by trigger): the graph's slow inserts stay out
   * of the write path and are batched over every core.
   */
  private startCatchUp(): void {
    const index = this.dense;
    if (index === null || this.catchingUp !== null) return;
    this.catchingUp = this.catchUp(index).finally(() => {
      this.catchingUp = null;
    });
  }

  private async catchUp(index: DenseIndex): Promise<void> {
    for (;;) {
      await nextTurn();
      if (this.closed || this.dense !== index) return;
      let reached: number;
      try {
        reached = this.replay(index, this.denseGeneration, BUILD_STEP);
      } catch {
        // A mapped graph whose file another process replaced cannot take the change (dense-index.ts `writable`).
        this.rebuildDense();
        return;
      }
      if (reached === this.denseGeneration) break;
      this.denseGeneration = reached;
    }
    // Deleted and changed rows pile up in a graph that is never edited in place (dense-index.ts).
    if (index.debt > Math.max(REBUILD_DEBT_MIN, index.size * REBUILD_DEBT_SHARE)) this.rebuildDense();
    else this.scheduleSave();
  }

  /** Drops the graph and builds a fresh one from SQLite in the background; searches scan exactly meanwhile. */
  private rebuildDense(): void {
    this.dense = null;
    this.rebuildNext = true;
    void this.prepareIndex().catch(() => {
      // The exact scan keeps answering; the next search tries again.
    });
  }

  private scheduleSave(): void {
    if (this.saveTimer !== null) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      if (!this.closed) this.saveDense();
    }, SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  /** Saves the graph beside the database, then prunes the log it no longer needs. */
  private saveDense(): void {
    const { embedder } = this.ready();
    const index = this.dense;
    if (index === null || this.catchingUp !== null) return;
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    const generation = this.denseGeneration;
    const vectors = this.generation() === generation ? this.scalar('SELECT count(*) AS n FROM chunk_vectors') : null;
    const storeId = this.meta('store_id') ?? '';
    try {
      saveIndex(this.location, index, { store_id: storeId, embedder_id: embedder.id, dimension: embedder.dimension, generation, vectors });
    } catch {
      // E.g. a full disk. Nothing is lost: the log keeps every change since the last good save, and the next save retries.
      return;
    }
    try {
      this.db.transaction(() => {
        this.stmt('DELETE FROM vector_log WHERE seq <= ?').run(generation);
        if (generation > this.prunedThrough()) this.setMeta('vector_log_pruned_through', String(generation));
      })();
    } catch {
      // E.g. the CLI holds the write lock past the busy timeout: the log is only longer until the next save prunes it.
    }
  }

  private checkVector(vector: Float32Array, what: string): void {
    const { embedder } = this.ready();
    if (vector.length !== embedder.dimension) {
      throw new RangeError(
        `${what} has ${vector.length} dimensions, but ${this.location} holds ${embedder.dimension}-dim vectors from embedder "${embedder.id}"; embed it with that embedder`,
      );
    }
    for (let i = 0; i < vector.length; i++) {
      if (!Number.isFinite(vector[i])) throw new RangeError(`${what} has a non-finite component at index ${i}; fix the embedder output`);
    }
  }

  // -- lifecycle -------------------------------------------------------------

  async init(embedder: EmbedderInfo): Promise<void> {
    this.open();
    if (!Number.isInteger(embedder.dimension) || embedder.dimension <= 0 || embedder.id === '') {
      throw new RangeError(`init: embedder "${embedder.id}" reports dimension ${embedder.dimension}; a positive integer and a non-empty id are required`);
    }
    if (this.embedder?.id === embedder.id && this.embedder.dimension === embedder.dimension) return;
    this.db.transaction(() => {
      const storedId = this.meta('embedder_id');
      const storedDim = this.meta('dimension');
      const same = storedId === embedder.id && storedDim === String(embedder.dimension);
      if (storedId !== null && !same) {
        const points = this.scalar('SELECT count(*) AS n FROM chunks');
        if (points > 0) {
          throw new EmbedderMismatchError(
            `${this.location} holds ${points} vectors from embedder "${storedId}" (${storedDim ?? '?'} dims), ` +
              `not "${embedder.id}" (${embedder.dimension} dims), and vectors of different embedders cannot be searched together. ` +
              'Re-index into a fresh DATA_DIR (move or remove the data directory, then run `npm run index -- --all`), ' +
              'or migrate the store to the new embedder.',
          );
        }
      }
      // An empty store adopts whatever embedder comes first.
      if (!same) this.db.exec('DROP TABLE IF EXISTS chunk_vectors');
      this.db.exec(vectorTableSql(embedder.dimension));
      this.db.exec(VECTOR_LOG_SCHEMA);
      this.setMeta('embedder_id', embedder.id);
      this.setMeta('dimension', String(embedder.dimension));
    }).immediate();
    this.statements.clear();
    this.embedder = { id: embedder.id, dimension: embedder.dimension };
    this.dense = null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Saved now so the next open replays nothing; a kill before this point only costs that replay.
    if (this.dense !== null && this.embedder !== null && this.saveTimer !== null) this.saveDense();
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    this.closed = true;
    this.statements.clear();
    this.dense = null;
    this.db.close();
  }

  /**
   * A consistent copy of the whole store taken while it keeps serving (SQLite's
   * online backup: readers and writers are only paused between page batches).
   */
  async backup(toFile: string): Promise<void> {
    this.open();
    const target = path.resolve(toFile);
    if (target === this.location) throw new Error(`backup: ${toFile} is the store itself; choose another file`);
    // Snapshots and backups hold the whole library: as private as the store.
    privateSqliteFile(target);
    await this.db.backup(target);
  }

  // -- writes ----------------------------------------------------------------

  /**
   * Writes one point inside the caller's transaction. `keepCreatedAt`: an
   * existing id keeps its first `created_at` (re-indexing); migration copies it.
   */
  private writePoint(point: StoredPoint, keepCreatedAt: boolean): void {
    this.checkVector(point.vector, `point ${point.id} (${point.payload.file_path}#${point.payload.chunk_index})`);
    const params = payloadToParams(point.payload);
    const existing = this.stmt('SELECT rowid, created_at FROM chunks WHERE id = ?').get(point.id);
    let rowid: number;
    if (existing === undefined) {
      const cols = CHUNK_COLUMNS.join(', ');
      const vals = CHUNK_COLUMNS.map((c) => `@${c}`).join(', ');
      const info = this.stmt(`INSERT INTO chunks(${cols}) VALUES (${vals})`).run({ ...params, id: point.id });
      rowid = Number(info.lastInsertRowid);
    } else {
      const r = row(existing, 'chunks');
      rowid = num(r, 'rowid');
      if (keepCreatedAt) params.created_at = text(r, 'created_at');
      const sets = CHUNK_COLUMNS.filter((c) => c !== 'id' && !FTS_COLUMNS.includes(c)).map((c) => `${c} = @${c}`);
      this.stmt(`UPDATE chunks SET ${sets.join(', ')} WHERE rowid = @rowid`).run({ ...params, rowid });
      // Only a real change touches the FTS columns: the update trigger re-indexes whatever it fires for.
      const ftsSets = FTS_COLUMNS.map((c) => `${c} = @${c}`).join(', ');
      const changed = FTS_COLUMNS.map((c) => `${c} IS NOT @${c}`).join(' OR ');
      const ftsParams = Object.fromEntries(FTS_COLUMNS.map((c) => [c, params[c] ?? null]));
      this.stmt(`UPDATE chunks SET ${ftsSets} WHERE rowid = @rowid AND (${changed})`).run({ ...ftsParams, rowid });
    }
    this.stmt('INSERT OR REPLACE INTO chunk_vectors(rowid, embedding) VALUES (?, ?)').run(rowid, vectorBlob(point.vector));
  }

  private writeFileRecord(file: FileRecord): void {
    const cols = FILE_COLUMNS.join(', ');
    const vals = FILE_COLUMNS.map((c) => `@${c}`).join(', ');
    const sets = FILE_COLUMNS.filter((c) => c !== 'file_path').map((c) => `${c} = excluded.${c}`);
    this.stmt(`INSERT INTO files(${cols}) VALUES (${vals}) ON CONFLICT(file_path) DO UPDATE SET ${sets.join(', ')}`).run(fileToParams(file));
  }

  private deleteRowids(rowids: number[]): void {
    const del = this.stmt('DELETE FROM chunks WHERE rowid = ?');
    const delVec = this.stmt('DELETE FROM chunk_vectors WHERE rowid = ?');
    for (const rowid of rowids) {
      del.run(rowid);
      delVec.run(rowid);
    }
  }

  private fileRowids(filePath: string): Array<{ rowid: number; id: string }> {
    return this.stmt('SELECT rowid, id FROM chunks WHERE file_path = ?')
      .all(filePath)
      .map((r) => {
        const rr = row(r, 'chunks');
        return { rowid: num(rr, 'rowid'), id: text(rr, 'id') };
      });
  }

  async replaceFile(file: FileRecord, points: StoredPoint[]): Promise<void> {
    this.ready();
    const ids = new Set<string>();
    for (const p of points) {
      if (p.payload.file_path !== file.file_path) {
        throw new Error(`replaceFile(${file.file_path}): point ${p.id} belongs to ${p.payload.file_path}; pass only the file's own points`);
      }
      if (ids.has(p.id)) throw new Error(`replaceFile(${file.file_path}): point id ${p.id} appears twice; point ids must be unique per file`);
      ids.add(p.id);
    }
    const removals: number[] = [];
    this.db.transaction(() => {
      // New version first, then the stale rows: the file is never empty, even inside the transaction.
      for (const p of points) this.writePoint(p, true);
      const stale = this.fileRowids(file.file_path).filter((r) => !ids.has(r.id));
      for (const r of stale) removals.push(r.rowid);
      this.deleteRowids(removals);
      this.writeFileRecord(file);
    }).immediate();
    this.startCatchUp();
  }

  async deleteFile(filePath: string): Promise<number> {
    this.ready();
    const removals: number[] = [];
    this.db.transaction(() => {
      for (const r of this.fileRowids(filePath)) removals.push(r.rowid);
      this.deleteRowids(removals);
      this.stmt('DELETE FROM files WHERE file_path = ?').run(filePath);
    }).immediate();
    this.startCatchUp();
    return removals.length;
  }

  async upsertPoints(points: StoredPoint[], files: FileRecord[]): Promise<void> {
    this.ready();
    this.db.transaction(() => {
      for (const p of points) this.writePoint(p, false);
      for (const f of files) this.writeFileRecord(f);
    }).immediate();
    this.startCatchUp();
  }

  async setTaxonomy(filePath: string, taxonomy: TaxonomyPath, confidence: number): Promise<void> {
    this.ready();
    const params = { file_path: filePath, full_path: taxonomy.full_path, level1: taxonomy.level1, level2: taxonomy.level2, confidence };
    this.db.transaction(() => {
      const sets = 'taxonomy_full_path = @full_path, level1 = @level1, level2 = @level2, confidence = @confidence';
      this.stmt(`UPDATE files SET ${sets} WHERE file_path = @file_path`).run(params);
      this.stmt(`UPDATE chunks SET ${sets} WHERE file_path = @file_path`).run(params);
    }).immediate();
  }

  // -- reads -----------------------------------------------------------------

  private pointsByRowid(rowids: number[]): Map<number, { id: string; payload: ChunkPayload }> {
    const out = new Map<number, { id: string; payload: ChunkPayload }>();
    if (rowids.length === 0) return out;
    const rows = this.stmt(`SELECT ${CHUNK_SELECT} FROM chunks c WHERE c.rowid IN (SELECT value FROM json_each(?))`).all(JSON.stringify(rowids));
    for (const r of rows) {
      const rr = row(r, 'chunks');
      out.set(num(rr, 'rowid'), { id: text(rr, 'id'), payload: rowToPayload(rr) });
    }
    return out;
  }

  private storedPoints(sql: string, ...params: unknown[]): Array<{ rowid: number; point: StoredPoint }> {
    const { embedder } = this.ready();
    return this.stmt(sql)
      .all(...params)
      .map((r) => {
        const rr = row(r, 'chunks');
        const vector = blobToVector(rr.embedding, 'embedding', embedder.dimension);
        return { rowid: num(rr, 'rowid'), point: { id: text(rr, 'id'), vector, payload: rowToPayload(rr) } };
      });
  }

  async getPoint(id: string): Promise<StoredPoint | null> {
    const found = this.storedPoints(`SELECT ${CHUNK_SELECT}, v.embedding FROM chunks c JOIN chunk_vectors v ON v.rowid = c.rowid WHERE c.id = ?`, id);
    return found[0]?.point ?? null;
  }

  async fileChunks(filePath: string): Promise<StoredPoint[]> {
    return this.storedPoints(
      `SELECT ${CHUNK_SELECT}, v.embedding FROM chunks c JOIN chunk_vectors v ON v.rowid = c.rowid WHERE c.file_path = ? ORDER BY c.chunk_index, c.rowid`,
      filePath,
    ).map((r) => r.point);
  }

  async getFile(filePath: string): Promise<FileRecord | null> {
    this.ready();
    const r = this.stmt(`SELECT ${FILE_COLUMNS.join(', ')} FROM files WHERE file_path = ?`).get(filePath);
    return r === undefined ? null : rowToFile(row(r, 'files'));
  }

  async listFiles(): Promise<FileRecord[]> {
    this.ready();
    return this.stmt(`SELECT ${FILE_COLUMNS.join(', ')} FROM files ORDER BY file_path`)
      .all()
      .map((r) => rowToFile(row(r, 'files')));
  }

  async count(filters?: SearchFilters): Promise<number> {
    this.ready();
    const f = buildFilter(filters);
    return this.scalar(`SELECT count(*) AS n FROM chunks c ${andWhere(f, true)}`, ...f.params);
  }

  async scroll(cursor: string | null, limit: number): Promise<{ points: StoredPoint[]; next: string | null }> {
    this.ready();
    let after = 0;
    if (cursor !== null) {
      if (!/^\d{1,15}$/.test(cursor)) throw new RangeError(`scroll: cursor "${cursor}" was not returned by this store; start again with null`);
      after = Number(cursor);
    }
    const size = Math.max(1, Math.floor(limit));
    // One extra row tells whether another page exists without a second query.
    const rows = this.storedPoints(
      `SELECT ${CHUNK_SELECT}, v.embedding FROM chunks c JOIN chunk_vectors v ON v.rowid = c.rowid
       WHERE c.rowid > ? ORDER BY c.rowid LIMIT ?`,
      after,
      size + 1,
    );
    const page = rows.slice(0, size);
    const tail = page[page.length - 1];
    const next = rows.length > size && tail !== undefined ? String(tail.rowid) : null;
    return { points: page.map((r) => r.point), next };
  }

  async stats(): Promise<StoreStats> {
    this.ready();
    const group = (column: string): Record<string, number> => {
      // Per document (its first chunk), as the Qdrant store counts them.
      const rows = this.stmt(`SELECT ${column} AS k, count(*) AS n FROM chunks WHERE chunk_index = 0 GROUP BY ${column}`).all();
      const out: Record<string, number> = {};
      for (const r of rows) {
        const rr = row(r, 'chunks');
        out[text(rr, 'k')] = num(rr, 'n');
      }
      return out;
    };
    const last = row(this.stmt('SELECT max(indexed_at) AS last FROM files').get(), 'files');
    return {
      points_count: this.scalar('SELECT count(*) AS n FROM chunks'),
      documents: this.scalar('SELECT count(*) AS n FROM chunks WHERE chunk_index = 0'),
      by_content_type: group('content_type'),
      by_taxonomy: group('taxonomy_full_path'),
      last_indexed_at: textOrNull(last, 'last'),
    };
  }

  // -- search ----------------------------------------------------------------

  async search(query: StoreQuery): Promise<ScoredPoint[]> {
    this.ready();
    const limit = Math.floor(query.limit);
    if (!(limit >= 1)) return [];
    const { mode, vector, text: queryText } = query;
    if (mode !== 'keyword' && vector === undefined) throw new Error(`search: mode "${mode}" needs query.vector; embed the query text first`);
    if (mode !== 'dense' && queryText === undefined) throw new Error(`search: mode "${mode}" needs query.text`);
    const filter = buildFilter(query.filters, query.excludeFilePath);
    const side = mode === 'hybrid' ? hybridSideLimit(limit) : limit;
    const dense = vector === undefined || mode === 'keyword' ? [] : this.denseSearch(vector, side, query.filters, query.excludeFilePath);
    const keyword = queryText === undefined || mode === 'dense' ? [] : this.keywordSearch(queryText, side, filter);

    if (mode === 'dense') return this.toScored(dense.map((d) => ({ rowid: d.rowid, dense: d.score, keyword: null, fused: d.score })));
    if (mode === 'keyword') return this.toScored(keyword.map((k) => ({ rowid: k.rowid, dense: null, keyword: k.score, fused: k.score })));

    const fused = fuseScores(dense.map(({ rowid, score }) => ({ id: rowid, score })), keyword.map(({ rowid, score }) => ({ id: rowid, score })), query.weights ?? EQUAL_WEIGHTS);
    const denseBy = new Map(dense.map((d) => [d.rowid, d.score]));
    const keywordBy = new Map(keyword.map((k) => [k.rowid, k.score]));
    // Equal fused scores go to the higher cosine, then to the older row.
    const ranked = [...fused.entries()]
      .map(([rowid, score]) => ({ rowid, score }))
      .sort((a, b) => b.score - a.score || (denseBy.get(b.rowid) ?? -2) - (denseBy.get(a.rowid) ?? -2) || a.rowid - b.rowid)
      .slice(0, limit);
    return this.toScored(
      ranked.map((r) => ({ rowid: r.rowid, dense: denseBy.get(r.rowid) ?? null, keyword: keywordBy.get(r.rowid) ?? null, fused: r.score })),
    );
  }

  private toScored(hits: Array<{ rowid: number; dense: number | null; keyword: number | null; fused: number }>): ScoredPoint[] {
    const points = this.pointsByRowid(hits.map((h) => h.rowid));
    const out: ScoredPoint[] = [];
    for (const h of hits) {
      const p = points.get(h.rowid);
      if (p !== undefined) out.push({ id: p.id, payload: p.payload, dense: h.dense, keyword: h.keyword, fused: h.fused });
    }
    return out;
  }

  /**
   * Dense search: HNSW candidates re-ranked exactly, or an exact scan when the
   * graph is not ready, the store is small, or the filter matches few chunks.
   * Filters are applied exactly, never approximated: the graph's candidates are
   * checked against the filter in SQL, and when too few pass the graph is asked
   * for more (OVERFETCH_GROWTH times, up to OVERFETCH_ROUNDS rounds), then the filter's
   * rows are scanned exactly. The re-rank reads the vectors SQLite holds now,
   * so a deleted chunk can never come back and a changed one is scored as it is.
   */
  private denseSearch(vector: Float32Array, limit: number, filters: SearchFilters | undefined, excludeFilePath: string | undefined): Ranked[] {
    this.checkVector(vector, 'search: query vector');
    let norm = 0;
    for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
    if (norm === 0) return [];
    const filter = buildFilter(filters, excludeFilePath);
    const graph = this.denseForSearch();
    if (graph === null || graph.index.size < this.exactBelow) return this.exactSearch(vector, limit, filter);
    const stats =
      filter.conditions.length === 0
        ? null
        : this.filterStats.get(filterKey(filter), this.generation(), () =>
            this.scalar(`SELECT count(*) AS n FROM (SELECT 1 FROM chunks c ${andWhere(filter, true)} LIMIT ?)`, ...filter.params, this.exactFilterRows + 1),
          );
    if (stats !== null && stats.matching <= this.exactFilterRows) return this.exactSearch(vector, limit, filter);
    // Rows changed by another process that the graph has not taken in yet are scored exactly beside its candidates.
    const behind = graph.behindFrom === null ? [] : this.rowids('SELECT DISTINCT chunk_rowid FROM vector_log WHERE seq > ?', graph.behindFrom);
    const pool = candidatePool(limit);
    // The share that passed this filter last time sizes the first request (filter-stats.ts).
    let want = stats?.share ? Math.min(Math.ceil((pool / stats.share) * 1.25), pool * OVERFETCH_GROWTH) : pool;
    for (let round = 0; round < OVERFETCH_ROUNDS; round++) {
      const found = graph.index.search(vector, want);
      const candidates = behind.length === 0 ? found : [...new Set([...found, ...behind])];
      const kept = filter.conditions.length === 0 ? candidates : this.passing(candidates, filter);
      if (stats !== null && found.length > 0) stats.share = Math.max(kept.length, 1) / found.length;
      // Enough passed, or the graph had nothing more to give (every indexed vector was a candidate).
      const exhausted = found.length < want;
      if (kept.length >= pool || (exhausted && kept.length >= limit)) return this.exactRerank(vector, kept.slice(0, pool + behind.length), limit);
      if (exhausted) break;
      const share = Math.max(kept.length, 1) / found.length;
      want = Math.min(Math.ceil((pool / share) * 1.25), want * OVERFETCH_GROWTH);
    }
    return this.exactSearch(vector, limit, filter);
  }

  private exactRerank(vector: Float32Array, rowids: number[], limit: number): Ranked[] {
    if (rowids.length === 0) return [];
    const rows = this.stmt(
      'SELECT rowid, vec_distance_cosine(embedding, ?) AS distance FROM chunk_vectors WHERE rowid IN (SELECT value FROM json_each(?))',
    ).all(vectorBlob(vector), JSON.stringify(rowids));
    const ranked: Ranked[] = rows.map((r) => {
      const rr = row(r, 'chunk_vectors');
      // NULL distance: the stored vector is all zeros; cosine is undefined, call it 0.
      const distance = numOrNull(rr, 'distance');
      return { rowid: num(rr, 'rowid'), score: distance === null ? 0 : 1 - distance };
    });
    ranked.sort((a, b) => b.score - a.score || a.rowid - b.rowid);
    return ranked.slice(0, limit);
  }

  /** The rowids among `rowids` whose chunk exists and passes `filter`, in the given order. */
  private passing(rowids: number[], filter: SqlFilter): number[] {
    if (rowids.length === 0) return [];
    const pass = new Set(
      this.rowids(`SELECT c.rowid FROM chunks c WHERE c.rowid IN (SELECT value FROM json_each(?)) ${andWhere(filter, false)}`, JSON.stringify(rowids), ...filter.params),
    );
    return rowids.filter((r) => pass.has(r));
  }

  /** Exact cosine against every stored vector that passes `filter`: the truth the graph approximates. */
  private exactSearch(vector: Float32Array, limit: number, filter: SqlFilter): Ranked[] {
    const from =
      filter.conditions.length === 0 ? 'FROM chunk_vectors v' : `FROM chunks c JOIN chunk_vectors v ON v.rowid = c.rowid ${andWhere(filter, true)}`;
    // A NULL distance (an all-zero stored vector) scores 0, as in exactRerank.
    const rows = this.stmt(
      `SELECT rowid, distance FROM (SELECT v.rowid AS rowid, vec_distance_cosine(v.embedding, ?) AS distance ${from})
       ORDER BY coalesce(distance, 1), rowid LIMIT ?`,
    ).all(vectorBlob(vector), ...filter.params, limit);
    return rows.map((r) => {
      const rr = row(r, 'chunk_vectors');
      const distance = numOrNull(rr, 'distance');
      return { rowid: num(rr, 'rowid'), score: distance === null ? 0 : 1 - distance };
    });
  }

  /**
   * The MATCH expression for `queryText` within the keyword row budget: each arm's
   * matches are counted (capped, so a common word costs at most a capped
   * doclist walk, not a BM25 pass), then arms are taken rarest first. The
   * rarest arm is always kept, so a query of only common words still answers.
   */
  private keywordMatch(queryText: string): string | null {
    const arms = ftsArms(queryText);
    if (arms.length <= 1) return joinArms(arms);
    const probe = this.stmt('SELECT count(*) AS n FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)');
    const costed = arms.map((a, order) => ({ a, order, cost: num(row(probe.get(a, this.keywordRowBudget + 1), 'chunks_fts'), 'n') }));
    costed.sort((x, y) => x.cost - y.cost || x.order - y.order);
    const kept: typeof costed = [];
    let spent = 0;
    for (const c of costed) {
      if (c.cost === 0) continue;
      if (kept.length > 0 && spent + c.cost > this.keywordRowBudget) break;
      kept.push(c);
      spent += c.cost;
    }
    kept.sort((x, y) => x.order - y.order);
    return joinArms(kept.map((c) => c.a));
  }

  private keywordSearch(queryText: string, limit: number, filter: SqlFilter): Ranked[] {
    const match = this.keywordMatch(queryText);
    if (match === null) return [];
    const ranked = (sql: string, ...params: unknown[]): Ranked[] =>
      this.stmt(sql)
        .all(...params)
        .map((r) => {
          const rr = row(r, 'chunks_fts');
          return { rowid: num(rr, 'rowid'), score: num(rr, 'score') };
        });
    const unfiltered = `SELECT rowid, -${BM25} AS score FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY ${BM25} LIMIT ?`;
    if (filter.conditions.length === 0) return ranked(unfiltered, match, limit);
    // Joining chunks to test the filter costs a lookup per matched row, thousands for a common
    // word: the best rows are ranked without it first and only they are tested. When too few of
    // them pass (a selective filter), every match is joined and tested.
    // Skipped when the filter is known to pass too few (its share among a dense search's candidates, filter-stats.ts).
    const share = this.filterStats.share(filterKey(filter));
    if (share === null || share * KEYWORD_FILTER_DEPTH >= 2) {
      const depth = limit * KEYWORD_FILTER_DEPTH;
      const best = ranked(unfiltered, match, depth);
      const pass = new Set(this.passing(best.map((b) => b.rowid), filter));
      const kept = best.filter((b) => pass.has(b.rowid));
      // Enough passed (no row below `best` can outrank them), or `best` held every match.
      if (kept.length >= limit || best.length < depth) return kept.slice(0, limit);
    }
    return ranked(
      `SELECT c.rowid AS rowid, -${BM25} AS score
       FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid
       WHERE chunks_fts MATCH ? ${andWhere(filter, false)}
       ORDER BY ${BM25} LIMIT ?`,
      match,
      ...filter.params,
      limit,
    );
  }

}
