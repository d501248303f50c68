import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { openDatabase } from '../../storage/sqlite-driver.js';
import { EmbeddedStore } from './store.js';
import { isRecord } from '../../../shared/guards.js';
import type { StoreAdmin, StoreExport } from '../store-admin.js';
import type { VectorStore } from '../vector-store.js';
import { EmbeddedSnapshots } from './snapshots.js';

/** The name of the store's copy in a backup archive. */
const EXPORT_FILE = 'library.sqlite';

/** The embedded store's administration: one SQLite file, copied with SQLite's online backup. */
export class EmbeddedAdmin implements StoreAdmin {
  readonly kind = 'embedded' as const;
  readonly where: string;
  readonly snapshots: EmbeddedSnapshots;

  /** `store`: the store open in this process, if any; only an embedded snapshot needs it (the online backup runs on the open database). */
  constructor(
    readonly storeFile: string,
    snapshotsDir: string,
    store: VectorStore | null,
  ) {
    this.where = storeFile;
    this.snapshots = new EmbeddedSnapshots(snapshotsDir, storeFile, store);
  }

  async exists(): Promise<boolean> {
    return existsSync(this.storeFile);
  }

  /** Read without loading sqlite-vec (chunks is a plain table). */
  async countPoints(): Promise<number> {
    if (!existsSync(this.storeFile)) return 0;
    const db = openDatabase(this.storeFile, { readonly: true, fileMustExist: true });
    try {
      const row: unknown = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'chunks'").get();
      const has = isRecord(row) ? row.n : 0;
      if (has !== 1) return 0;
      const counted: unknown = db.prepare('SELECT count(*) AS n FROM chunks').get();
      const n = isRecord(counted) ? counted.n : undefined;
      return typeof n === 'number' ? n : 0;
    } finally {
      db.close();
    }
  }

  /** SQLite's online backup: consistent while the server keeps serving and writing. */
  async exportTo(dir: string): Promise<StoreExport> {
    const source = this.storeFile;
    if (!existsSync(source)) {
      return {
        file: null,
        points: 0,
        embedder: null,
        collection: null,
        summary: `store: no embedded store at ${source}, nothing archived`,
        warnings: [`no embedded store at ${source}; the archive has none (index first if that is unexpected)`],
      };
    }
    const target = path.join(dir, EXPORT_FILE);
    await mkdir(dir, { recursive: true });
    const store = new EmbeddedStore(source);
    try {
      await store.backup(target);
    } finally {
      await store.close();
    }
    const { points, embedder } = finishSqliteCopy(target);
    return { file: EXPORT_FILE, points, embedder, collection: null, summary: `store: embedded ${source}, ${points} points`, warnings: [] };
  }
}

/**
 * Makes the copy one self-contained file (rollback journal, not WAL: no -wal or
 * -shm beside it) and reads `embedder_id`, `dimension` and the point count
 * from it, so the backup's manifest describes exactly what is archived.
 */
function finishSqliteCopy(file: string): { points: number; embedder: StoreExport['embedder'] } {
  const db = openDatabase(file, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
    const get = (sql: string, ...params: string[]): unknown => db.prepare(sql).get(...params);
    const field = (row: unknown, key: string): unknown => (isRecord(row) ? row[key] : undefined);
    const n = field(get('SELECT count(*) AS n FROM chunks'), 'n');
    const id = field(get("SELECT value FROM meta WHERE key = 'embedder_id'"), 'value');
    const dim = Number(field(get("SELECT value FROM meta WHERE key = 'dimension'"), 'value'));
    return {
      points: typeof n === 'number' ? n : 0,
      embedder: typeof id === 'string' && Number.isInteger(dim) && dim > 0 ? { id, dimension: dim } : null,
    };
  } finally {
    db.close();
  }
}
