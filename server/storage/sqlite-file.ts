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
