import type Database from 'better-sqlite3';
import { privateSqliteFile } from './private-files.js';
import { openDatabase } from './sqlite-driver.js';

export const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating its folder) one of the server's SQLite files the way they all
 * need it: WAL so the server and the CLI can read and write the same file at
 * once, a busy timeout instead of SQLITE_BUSY, and synchronous=NORMAL, which in
 * WAL mode may lose the last commits on a power cut but never corrupts the file.
 * The file and its sidecars are 0600 (private-files.ts).
 */
export function openSqliteFile(file: string): Database.Database {
  privateSqliteFile(file);
  const db = openDatabase(file);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** What a file that cannot be opened is called in the error, and what to do about it. */
export interface SqliteFileLabel {
  /** "usage store", "index job records", … */
  what: string;
  fix: string;
}

/**
 * openSqliteFile, then `schema` (CREATE … IF NOT EXISTS, so it runs on every
 * open): every small SQLite file of the server opens this way, and a failure
 * to open or create its tables is one message that names the file and the fix.
 */
export function openSqliteWithSchema(file: string, schema: string, label: SqliteFileLabel): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = openSqliteFile(file);
    db.exec(schema);
    return db;
  } catch (error) {
    db?.close();
    const msg = error instanceof Error ? error.message : String(error);
    throw new Error(`${label.what} ${file} cannot be opened: ${msg}; ${label.fix}`, { cause: error });
  }
}
