/** The embedded store's tables, triggers and column lists: the SQLite side of stores/embedded/rows.ts. */

export const SCHEMA_VERSION = 1;

export const CHUNK_COLUMNS = [
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
export const FTS_COLUMNS: readonly string[] = ['content', 'section', 'file_path', 'idents'];

export const FILE_COLUMNS = [
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
export const CHUNK_SELECT = `c.rowid AS rowid, ${CHUNK_COLUMNS.filter((c) => c !== 'idents')
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

export const FTS_TABLE = `CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
  content, section, file_path, idents,
  content='chunks', content_rowid='rowid',
  tokenize="${FTS_TOKENIZER}"
);`;

/**
 * Every column a search filter tests (sql-filter.ts), keyed by rowid: a
 * filtered search tests hundreds of graph candidates or ranked keyword hits
 * by rowid (stores/embedded/search.ts), and each lookup in the chunk rows
 * themselves, a few to a 4 KB page beside their content, was a page read of
 * its own. At 300k chunks, testing 833 rowids took 4.7 ms through the table
 * and 1.3 ms through this index. The planner does not pick it by itself (it
 * goes through chunks_content_type and then the row), so the searches name it.
 */
export const FILTER_COLUMNS_INDEX = 'chunks_filter_columns';

export const BASE_SCHEMA = `
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
CREATE INDEX IF NOT EXISTS ${FILTER_COLUMNS_INDEX} ON chunks(rowid, content_type, taxonomy_full_path, file_path);
-- Nothing reads chunks by level1 (filters test taxonomy_full_path, sql-filter.ts), so a store made with an
-- index on it loses it here: it cost every chunk write one more B-tree insert, and 15 MB at 1M chunks.
DROP INDEX IF EXISTS chunks_level1;
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

/**
 * The vectors table, and an index of its rowids alone: counting the vectors
 * (the saved graph's check at open, dense-upkeep.ts) reads that narrow index
 * instead of the table's leaf pages, ~500 MB at 1M 1024-dim vectors. With the
 * page cache cold, that count was most of a 1M store's 11 s to its first
 * dense answer after a restart.
 */
export function vectorTableSql(dimension: number): string {
  return `CREATE TABLE IF NOT EXISTS chunk_vectors (
    rowid INTEGER PRIMARY KEY,
    embedding BLOB NOT NULL CHECK (typeof(embedding) = 'blob' AND length(embedding) = ${dimension * 4})
  );
  CREATE INDEX IF NOT EXISTS chunk_vectors_rowids ON chunk_vectors(rowid);`;
}

/**
 * The generation number of the vectors: every write to chunk_vectors appends
 * its rowid to vector_log from a trigger, so in the writer's own transaction
 * and from any process (the CLI indexer too). The log's AUTOINCREMENT counter
 * (sqlite_sequence) is the generation; a saved dense index records the
 * generation it reflects and replays the rows logged after it. Saving prunes
 * the log up to the saved generation (meta `vector_log_pruned_through`).
 */
export const VECTOR_LOG_SCHEMA = `
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

