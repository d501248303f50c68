import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type Database from 'better-sqlite3';
import { openDatabase } from '../../storage/sqlite-driver.js';
import { streamToFileAtomically } from '../../storage/stream-to-file.js';
import { EmbeddedStore } from './store.js';
import {
  SNAPSHOT_NAME,
  SnapshotError,
  SnapshotNotFoundError,
  checkSnapshotName,
  type SnapshotInfo,
  type Snapshots,
  type SnapshotStream,
} from '../store-admin.js';
import type { VectorStore } from '../vector-store.js';

function timestampName(now: Date): string {
  return now.toISOString().replace(/[:.]/g, '-');
}

/**
 * Embedded store: SQLite's online backup API (EmbeddedStore.backup) writes a
 * consistent copy while the server keeps serving; snapshots are plain files
 * under DATA_DIR/snapshots/<timestamp>.sqlite.
 */
export class EmbeddedSnapshots implements Snapshots {
  readonly kind = 'embedded' as const;
  readonly where: string;

  constructor(
    readonly dir: string,
    readonly storeFile: string,
    private readonly store: VectorStore | null,
  ) {
    this.where = dir;
  }

  private fileOf(name: string): string {
    return path.join(this.dir, checkSnapshotName(name));
  }

  async create(): Promise<SnapshotInfo> {
    if (!(this.store instanceof EmbeddedStore)) {
      throw new SnapshotError('snapshot create: the embedded store is not open in this process; run it through the server (POST /api/admin/snapshots) or "npm run snapshot -- create"');
    }
    await mkdir(this.dir, { recursive: true });
    const now = new Date();
    let name = `${timestampName(now)}.sqlite`;
    for (let i = 1; existsSync(path.join(this.dir, name)); i++) name = `${timestampName(now)}-${i}.sqlite`;
    const file = path.join(this.dir, name);
    // Backed up under a temporary name: `list` never shows a snapshot still being written.
    const tmp = `${file}.partial`;
    try {
      await this.store.backup(tmp);
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    const info = await stat(file);
    return { name, size: info.size, created_at: now.toISOString() };
  }

  async list(): Promise<SnapshotInfo[]> {
    const names = await readdir(this.dir).catch((e: unknown) => {
      if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return [];
      throw e;
    });
    const out: SnapshotInfo[] = [];
    for (const name of names.filter((n) => n.endsWith('.sqlite') && SNAPSHOT_NAME.test(n)).sort()) {
      const info = await stat(path.join(this.dir, name));
      out.push({ name, size: info.size, created_at: info.mtime.toISOString() });
    }
    return out;
  }

  private async existing(name: string): Promise<{ file: string; size: number }> {
    const file = this.fileOf(name);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new SnapshotNotFoundError(`snapshot "${name}" does not exist in ${this.dir}; see "npm run snapshot -- list"`);
    return { file, size: info.size };
  }

  async open(name: string): Promise<SnapshotStream> {
    const { file, size } = await this.existing(name);
    const web: NodeReadableStream<Uint8Array> = Readable.toWeb(createReadStream(file));
    return { stream: toDomStream(web), size };
  }

  async download(name: string, outFile: string): Promise<{ file: string; bytes: number }> {
    const { file } = await this.existing(name);
    return { file: path.resolve(outFile), bytes: await streamToFileAtomically(createReadStream(file), outFile) };
  }

  /**
   * Swaps the store file for a snapshot. The server must be stopped: a running
   * server keeps the old file open and would go on serving (and writing) it.
   * The copy is made beside the store and renamed into place, so the store file
   * is always either the old or the new database; the old one is kept as
   * `<store>.before-recover` (with its -wal/-shm, which must not meet the new file).
   */
  async recover(nameOrFile: string): Promise<string> {
    const source = await this.resolveSource(nameOrFile);
    checkSqlite(source);
    await mkdir(path.dirname(this.storeFile), { recursive: true });
    const tmp = `${this.storeFile}.recover-${process.pid}.tmp`;
    await copyFile(source, tmp);
    const kept = `${this.storeFile}.before-recover`;
    const moved: Array<[string, string]> = [];
    try {
      for (const suffix of ['', '-wal', '-shm']) {
        await rm(kept + suffix, { force: true });
        if (!existsSync(this.storeFile + suffix)) continue;
        await rename(this.storeFile + suffix, kept + suffix);
        moved.push([this.storeFile + suffix, kept + suffix]);
      }
      await rename(tmp, this.storeFile);
    } catch (e) {
      // Put the old store back as it was: a failed recovery must not leave no store at all.
      for (const [from, to] of moved.reverse()) await rename(to, from).catch(() => undefined);
      await rm(tmp, { force: true });
      throw e;
    }
    const keptNote = existsSync(kept) ? `; the previous store is kept as ${kept}` : '';
    return `recovered ${source} into ${this.storeFile}${keptNote}`;
  }

  private async resolveSource(nameOrFile: string): Promise<string> {
    if (SNAPSHOT_NAME.test(nameOrFile) && existsSync(path.join(this.dir, nameOrFile))) return path.join(this.dir, nameOrFile);
    const asFile = path.resolve(nameOrFile);
    if ((await stat(asFile).catch(() => null))?.isFile()) return asFile;
    throw new SnapshotNotFoundError(`snapshot "${nameOrFile}" is neither a name in ${this.dir} nor a readable file; see "npm run snapshot -- list"`);
  }
}

/** Refuses files that are not intact SQLite databases before they replace the store. */
function checkSqlite(file: string): void {
  let db: Database.Database | null = null;
  try {
    db = openDatabase(file, { readonly: true, fileMustExist: true });
    const row: unknown = db.pragma('quick_check', { simple: true });
    if (row !== 'ok') throw new SnapshotError(`${file}: SQLite quick_check failed (${String(row)}); pick another snapshot`);
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError(`${file}: not a readable SQLite snapshot (${e instanceof Error ? e.message : String(e)}); pick another snapshot`);
  } finally {
    db?.close();
  }
}

/** Node's web stream and the DOM lib's type describe the same object. */
function toDomStream(web: NodeReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for await (const chunk of web) controller.enqueue(chunk);
        controller.close();
      } catch (e) {
        controller.error(e);
      }
    },
  });
}
