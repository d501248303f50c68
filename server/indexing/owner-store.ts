import path from 'node:path';
import type Database from 'better-sqlite3';
import { openSqliteWithSchema } from '../storage/sqlite-file.js';
import { isRecord } from '../../shared/guards.js';

const OWNERS_SCHEMA = 'CREATE TABLE IF NOT EXISTS owners (file_path TEXT PRIMARY KEY, contributor TEXT NOT NULL, claimed_at TEXT NOT NULL)';

/**
 * Who contributed each library file, recorded before the file is written
 * (DATA_DIR/owners.sqlite). The vector store learns the contributor only when
 * the file is indexed; a kill in between would otherwise leave a file that
 * the next index run files with no owner, locking its uploader out of it.
 */
export class OwnerStore {
  private readonly db: Database.Database;

  private constructor(file: string) {
    this.db = openSqliteWithSchema(file, OWNERS_SCHEMA, { what: 'file owners record', fix: 'check DATA_DIR permissions and free space' });
  }

  static open(dataDir: string): OwnerStore {
    return new OwnerStore(path.join(dataDir, 'owners.sqlite'));
  }

  /** The recorded contributor, or undefined when none is recorded. */
  get(filePath: string): string | undefined {
    const row: unknown = this.db.prepare('SELECT contributor FROM owners WHERE file_path = ?').get(filePath);
    const value = isRecord(row) ? row.contributor : undefined;
    return typeof value === 'string' ? value : undefined;
  }

  /** Records `contributor` as the file's owner (committed before this returns). */
  set(filePath: string, contributor: string): void {
    this.db
      .prepare('INSERT INTO owners(file_path, contributor, claimed_at) VALUES (?, ?, ?) ON CONFLICT(file_path) DO UPDATE SET contributor = excluded.contributor, claimed_at = excluded.claimed_at')
      .run(filePath, contributor, new Date().toISOString());
  }

  /** The file is gone: whoever uploads that path next owns it. */
  release(filePath: string): void {
    this.db.prepare('DELETE FROM owners WHERE file_path = ?').run(filePath);
  }

  close(): void {
    this.db.close();
  }
}
