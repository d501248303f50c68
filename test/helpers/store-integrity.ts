import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { openDatabase } from '../../server/storage/sqlite-driver.js';

export interface StoreCounts {
  files: number;
  chunks: number;
  vectors: number;
  /** Rows the FTS5 index holds (its docsize shadow table: one row per indexed chunk). */
  fts: number;
}

export interface IntegrityReport {
  counts: StoreCounts;
  /** Human-readable violations; empty when the store is consistent. */
  problems: string[];
}

function count(db: Database.Database, sql: string): number {
  const v: unknown = db.prepare(sql).pluck().get();
  return typeof v === 'number' ? v : Number(v);
}

function list(db: Database.Database, sql: string): string[] {
  return db
    .prepare(sql)
    .pluck()
    .all()
    .map((v) => String(v));
}

/**
 * Checks an embedded store file with plain SQL, the way a crash would show:
 * every chunk has a files row with the same file_hash, chunk_count matches,
 * chunk indexes are 0..n-1 without duplicates, and the vector table and the
 * FTS index hold exactly one row per chunk (FTS5's own integrity-check too).
 */
export function checkStoreIntegrity(dbFile: string): IntegrityReport {
  const db = openDatabase(dbFile);
  try {
    db.pragma('busy_timeout = 5000');
    const problems: string[] = [];
    const report = (what: string, rows: string[]) => {
      if (rows.length > 0) problems.push(`${what}: ${rows.slice(0, 5).join(', ')}${rows.length > 5 ? ` (+${rows.length - 5} more)` : ''}`);
    };
    report('chunks without a files row', list(db, 'SELECT DISTINCT c.file_path FROM chunks c LEFT JOIN files f ON f.file_path = c.file_path WHERE f.file_path IS NULL'));
    report('chunks whose file_hash differs from their files row', list(db, 'SELECT DISTINCT c.file_path FROM chunks c JOIN files f ON f.file_path = c.file_path WHERE c.file_hash <> f.file_hash'));
    report(
      'files whose chunk_count does not match their chunks',
      list(db, `SELECT f.file_path FROM files f LEFT JOIN (SELECT file_path, count(*) AS n FROM chunks GROUP BY file_path) c ON c.file_path = f.file_path WHERE coalesce(c.n, 0) <> f.chunk_count`),
    );
    report(
      'files whose chunk indexes are not 0..n-1',
      list(db, 'SELECT file_path FROM chunks GROUP BY file_path HAVING count(DISTINCT chunk_index) <> count(*) OR min(chunk_index) <> 0 OR max(chunk_index) <> count(*) - 1'),
    );
    report('chunks without a vector', list(db, 'SELECT c.id FROM chunks c LEFT JOIN chunk_vectors v ON v.rowid = c.rowid WHERE v.rowid IS NULL'));
    report('vectors without a chunk', list(db, 'SELECT v.rowid FROM chunk_vectors v LEFT JOIN chunks c ON c.rowid = v.rowid WHERE c.rowid IS NULL'));
    report('chunks missing from the FTS index', list(db, 'SELECT c.id FROM chunks c LEFT JOIN chunks_fts_docsize d ON d.id = c.rowid WHERE d.id IS NULL'));
    report('FTS rows without a chunk', list(db, 'SELECT d.id FROM chunks_fts_docsize d LEFT JOIN chunks c ON c.rowid = d.id WHERE c.rowid IS NULL'));
    try {
      // rank 1: compare the index against the content table, not only its own structure.
      db.prepare("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)").run();
    } catch (e) {
      problems.push(`FTS5 integrity-check failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const counts: StoreCounts = {
      files: count(db, 'SELECT count(*) FROM files'),
      chunks: count(db, 'SELECT count(*) FROM chunks'),
      vectors: count(db, 'SELECT count(*) FROM chunk_vectors'),
      fts: count(db, 'SELECT count(*) FROM chunks_fts_docsize'),
    };
    return { counts, problems };
  } finally {
    db.close();
  }
}

/** file_path → file_hash of every files row. */
export function fileHashes(dbFile: string): Map<string, string> {
  const db = openDatabase(dbFile, { readonly: true });
  try {
    const rows = db.prepare('SELECT file_path, file_hash FROM files').all();
    const out = new Map<string, string>();
    for (const r of rows) {
      if (typeof r === 'object' && r !== null && 'file_path' in r && 'file_hash' in r) out.set(String(r.file_path), String(r.file_hash));
    }
    return out;
  } finally {
    db.close();
  }
}

/** The indexer's file hash: MD5 of the file's bytes. */
export function md5(content: string | Buffer): string {
  return createHash('md5').update(content).digest('hex');
}
