import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from './sqlite-driver.js';
import { isRecord } from '../../shared/guards.js';

/** Which process holds a DATA_DIR, and why it matters to the one asking. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

const LOCK_FILE = 'server.lock';
const HOLDER_FILE = 'server.lock.json';

/** What the holder wrote about itself, for the refusal message; best effort. */
function describeHolder(dataDir: string): string {
  try {
    const raw: unknown = JSON.parse(readFileSync(path.join(dataDir, HOLDER_FILE), 'utf8'));
    const pid = isRecord(raw) ? raw.pid : undefined;
    const what = isRecord(raw) ? raw.holder : undefined;
    if (typeof pid === 'number' && typeof what === 'string') return `${what} (pid ${pid})`;
  } catch {
    // No note (yet): the lock alone still says someone holds it.
  }
  return 'another process';
}

export interface DataDirLock {
  release(): void;
}

/**
 * Exclusive ownership of a DATA_DIR by one process: the server while it runs,
 * or `restore` while it replaces the store. The lock is SQLite's own on a
 * dedicated file (locking_mode=EXCLUSIVE plus an open write transaction),
 * i.e. an OS file lock: the kernel drops it when the process dies, even by
 * SIGKILL, so a crash never leaves a stale lock to clean up by hand.
 * Throws DataDirLockedError (the message says who holds it) when taken.
 */
export function lockDataDir(dataDir: string, holder: string): DataDirLock {
  const file = path.join(dataDir, LOCK_FILE);
  let db: Database.Database;
  try {
    db = openDatabase(file, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    // A write makes the lock exclusive for good; it is never committed.
    db.exec('CREATE TABLE IF NOT EXISTS held (at TEXT)');
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? e.code : undefined;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new DataDirLockedError(`${describeHolder(dataDir)} is using DATA_DIR ${dataDir}`);
    }
    throw e;
  }
  writeFileSync(path.join(dataDir, HOLDER_FILE), JSON.stringify({ pid: process.pid, holder, since: new Date().toISOString() }), { mode: 0o600 });
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      rmSync(path.join(dataDir, HOLDER_FILE), { force: true });
      db.close();
    },
  };
}
