import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/storage/sqlite-driver.js';
import { SqliteReader } from '../../server/storage/sqlite-reader.js';

/** The second, read-only connection on a worker thread (server/storage/sqlite-reader.ts), on a real SQLite file. */
let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ailib-reader-'));
  file = path.join(dir, 'db.sqlite');
  const db = openDatabase(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)');
  db.prepare('INSERT INTO t(name) VALUES (?), (?)').run('alpha', 'beta');
  db.close();
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('SqliteReader', () => {
  it('answers SELECTs with their rows and sees what another connection commits after', async () => {
    const reader = new SqliteReader(file);
    try {
      expect(await reader.all('SELECT name FROM t WHERE id > ? ORDER BY id', [0])).toEqual([{ name: 'alpha' }, { name: 'beta' }]);
      const writer = openDatabase(file);
      writer.prepare('INSERT INTO t(name) VALUES (?)').run('gamma');
      writer.close();
      expect(await reader.all('SELECT count(*) AS n FROM t', [])).toEqual([{ n: 3 }]);
    } finally {
      await reader.close();
    }
  });

  it('rejects bad SQL and any write with SQLite’s message, and keeps answering', async () => {
    const reader = new SqliteReader(file);
    try {
      await expect(reader.all('SELECT nope FROM t', [])).rejects.toThrow(/no such column: nope/);
      await expect(reader.all("INSERT INTO t(name) VALUES ('x') RETURNING id", [])).rejects.toThrow(/readonly/);
      expect(await reader.all('SELECT count(*) AS n FROM t', [])).toEqual([{ n: 2 }]);
    } finally {
      await reader.close();
    }
  });

  it('fails every query, without hanging, when the file cannot be opened; closed, it refuses new ones', async () => {
    const missing = new SqliteReader(path.join(dir, 'missing.sqlite'));
    await expect(missing.all('SELECT 1', [])).rejects.toThrow(/missing\.sqlite/);
    // Failed for good: the next query is refused at once, with the same cause, instead of waiting on a dead worker.
    await expect(missing.all('SELECT 2', [])).rejects.toThrow(/missing\.sqlite/);
    await missing.close();
    const reader = new SqliteReader(file);
    await reader.close();
    await expect(reader.all('SELECT 1', [])).rejects.toThrow(/closed/);
  });
});
