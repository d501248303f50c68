import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteWithSchema } from '../../server/storage/sqlite-file.js';

describe('openSqliteWithSchema', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sqlite-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const label = { what: 'test records', fix: 'check DATA_DIR permissions' };
  const schema = 'CREATE TABLE IF NOT EXISTS things (id TEXT PRIMARY KEY, n INTEGER NOT NULL)';

  it('creates the folder, the file and its tables in WAL mode, and opens them again unchanged', () => {
    const file = path.join(dir, 'nested', 'things.sqlite');
    const db = openSqliteWithSchema(file, schema, label);
    db.prepare('INSERT INTO things (id, n) VALUES (?, ?)').run('a', 1);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const again = openSqliteWithSchema(file, schema, label);
    expect(again.prepare('SELECT n FROM things WHERE id = ?').get('a')).toEqual({ n: 1 });
    again.close();
  });

  it('names the file and the fix when the file is not a database', () => {
    const file = path.join(dir, 'not-sqlite.sqlite');
    writeFileSync(file, 'this is not a SQLite database, just text that is long enough to have a header');
    expect(() => openSqliteWithSchema(file, schema, label)).toThrow(
      new RegExp(`^test records ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} cannot be opened: .+; check DATA_DIR permissions$`),
    );
  });

  it('names the file when its tables cannot be created', () => {
    const file = path.join(dir, 'bad-schema.sqlite');
    expect(() => openSqliteWithSchema(file, 'CREATE TABLE broken (x INTEGER) WITH NONSENSE', label)).toThrow(/^test records .*bad-schema\.sqlite cannot be opened: .+; check DATA_DIR permissions$/);
  });
});
